"""python -m qa_pipeline.cli"""

from qa_pipeline.cli import main

main()
