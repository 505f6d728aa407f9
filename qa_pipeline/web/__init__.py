"""The web app for coaches, supervisors, QA leads and agents (``qa serve``): server-rendered
pages over the results database, through the same Store as everything else."""
