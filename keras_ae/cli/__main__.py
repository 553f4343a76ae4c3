"""`python -m keras_ae.cli`: the `keras-ae` command."""

import sys

from keras_ae.cli import main

sys.exit(main())
