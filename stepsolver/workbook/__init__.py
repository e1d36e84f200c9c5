"""The workbook, the practice surface: ``stepsolver practice`` (a local web page and its
JSON API, ``server.py``), built on plain functions of one exercise
(``exercise.py``) that the notebook helpers share."""
