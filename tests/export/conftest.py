"""Fixtures of the export tests."""

import pytest

from tests.export.serving_case import export_harness_models


@pytest.fixture(scope="package")
def exported(tmp_path_factory):
    """The serving tests' exported VAE and autoencoder (`serving_case.export_harness_models`),
    exported once for the package's test files."""
    return export_harness_models(tmp_path_factory.mktemp("serving"))
