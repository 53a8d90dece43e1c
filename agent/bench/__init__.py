"""`voice-agent bench`: many simulated calls at once through the real server, measured.

runner.py drives the calls, proc.py runs and samples the server process, stats.py holds the
percentile helpers, report.py prints the table and plot.py draws the chart.
"""
