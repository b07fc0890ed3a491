"""tlcourse.lessons: code the notebooks teach, generated from their cells tagged `export`.

One module per notebook, named after it without its number (notebooks/03_mlm_pretraining.ipynb ->
tlcourse/lessons/mlm_pretraining.py). Never edit these files: edit the notebook's cell, then run
`python -m tlcourse export`; tests/test_export.py fails when a module is out of date.
"""
