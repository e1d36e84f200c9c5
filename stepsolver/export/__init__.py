"""Machine-readable exports of a trace: JSON and CSV (``data``), and the
quiz blanks and tolerances an LMS question uses (``quiz``)."""
