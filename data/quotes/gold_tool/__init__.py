"""The modules behind data/quotes/build_gold.py, the quote-attribution gold annotation tool.

One file was too big to read as a whole, so the tool is split by the problem each part solves:

- ``schema``: article ids, splits, labels, entity types, paths, the error type (shared by all);
- ``news``: raw news articles by id, and ``article_text``, the one definition of the annotated text;
- ``spans``: word boundaries (ZWNJ included) and the shape rules of a span;
- ``resolve``: one article's substring annotation -> offsets -> gold record;
- ``validate``: every rule of a gold record, for built and committed records alike;
- ``batches``: all annotation batches -> all records, errors collected per batch file;
- ``gold_files``: gold/*.jsonl, the counts, and the README counts block;
- ``review``: ``--show``, ``--lint``, ``--text`` and ``--diff`` helpers.

``build_gold.py`` is the command line and re-exports the public names, so ``build_gold.X`` keeps working.
It puts data/quotes/ on ``sys.path`` before importing this package (the directory is not a package).
"""
