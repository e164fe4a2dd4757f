#!/usr/bin/env python
"""Estimate a word n-gram language model (ARPA) and a lexicon for beam search.

    python scripts/build_lm.py --iam /data/IAM --order 3 --output iam3.arpa --lexicon iam-words.txt
    python scripts/build_lm.py corpus.txt --output lm.arpa --eval dev.txt

``--help`` lists every option; the logic is in seqlab/cli/build_lm.py and the
estimator in seqlab/decode/ngram.py.
"""

import sys

from seqlab.cli.build_lm import main

if __name__ == "__main__":
    sys.exit(main())
