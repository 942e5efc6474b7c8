"""The one home of the classifier's names: the reasons and the languages.

Everything else imports them from here: the model, training and evaluation, the database
models' CHECK constraints, the forms and the pages.
"""

# DESIGN.md's reasons, in the order of the model's columns.
REASONS = ("price", "attention", "product", "other")

# The languages customers write in, in the order of the language model's columns.
LANGUAGES = ("sv", "nb", "en")
