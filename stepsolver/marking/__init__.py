"""Marking a hand calculation, kind-neutral: the verdict rules (``rules``),
the marker that judges each entry (``marker``) and what it reports
(``report``).  A kind replays its own method through the marker; nothing
here knows which kind it marks.
"""
