"""The reason classifier as a library: no Flask, no database.

Reads a survey answer in Swedish, Norwegian or English and says which reasons (price,
attention, product, other) it complains about, with the words that decided each and the
topics it only set aside.

- ``labels``: the reason names and languages (defined once, imported everywhere);
- ``language``: folding, tokens and language detection;
- ``lexicon``: the word lists (reason words, and the cues of scope);
- ``scope``: clauses, and who is complained about in each: negation, contrast, concession,
  praise, set-aside topics;
- ``figures``: prices told in numbers and comparisons;
- ``features``: the sparse features the model weighs;
- ``model``: inference over the committed JSON model (plain Python), ``get_classifier``;
- ``training``: ``flask reasons train`` (scikit-learn, deterministic);
- ``evaluation``: top-1, macro-F1, exact set, spurious attention, confusion.

Importing this package is cheap: the model and the heavy libraries load on first use.
"""
