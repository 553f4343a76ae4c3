"""Packaging of keras-ae. Tool configuration (ruff, pytest) lives in pyproject.toml."""

import pathlib
import re

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "keras_ae" / "version.py").read_text()).group(1)

setup(
    name="keras-ae",
    version=VERSION,
    description="A Keras 3 / TensorFlow model zoo of autoencoders: AE, DAE, sparse, k-sparse, "
    "contractive, VAE, beta-VAE, DRAW, VQ-VAE.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["keras_ae", "keras_ae.*"]),
    # The trained presets: keras_ae/presets/<name>/{card.json, config.json, model.weights.h5}.
    package_data={"keras_ae.presets": ["*/card.json", "*/config.json", "*/model.weights.h5"]},
    # TensorFlow itself is an extra: "cpu" installs the small CPU-only wheel, "gpu"
    # the CUDA build. Installing neither keeps whatever TensorFlow is already there.
    install_requires=[
        "keras>=3.15,<4",
        "numpy>=1.26",
        "tensorflow-datasets>=4.9",
        # tensorflow-datasets 4.9.10 imports it at run time without declaring it.
        "importlib_resources",
        "matplotlib>=3.7",
        "scikit-learn>=1.3",
        # Keras' TensorBoard callback writes through it, and `tensorboard --logdir runs`
        # shows the runs' curves and pictures (tensorflow-cpu does not install it).
        "tensorboard>=2.21,<2.22",
    ],
    extras_require={
        "cpu": ["tensorflow-cpu==2.21.0"],
        "gpu": ["tensorflow[and-cuda]==2.21.0"],
        "dev": ["pytest>=8", "pytest-xdist>=3.5", "ruff>=0.5", "hypothesis>=6"],
        # The PyTorch column of benchmarks/training_speed.py (skipped when torch is absent).
        "bench": ["torch>=2.4"],
        # The gRPC client of keras_ae.export.client. tensorflow-serving-api declares a dependency
        # on the full `tensorflow` wheel, which must not land beside tensorflow-cpu: with
        # the "cpu" extra, install it as `pip install --no-deps tensorflow-serving-api`
        # (its runtime needs, grpcio and protobuf, come with TensorFlow). This extra is for
        # environments that use the full `tensorflow` wheel anyway.
        "serving": ["tensorflow-serving-api>=2.21,<2.22", "grpcio"],
    },
    entry_points={"console_scripts": ["keras-ae=keras_ae.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
