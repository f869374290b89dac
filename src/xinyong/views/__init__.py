"""What people see: the CLI, figures, the HTML report, the dashboard, the model description,
notebooks.
"""
