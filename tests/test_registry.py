"""The registered names resolve in the installed package, through its entry points."""
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from spacy.util import registry

from spacy_rehearsal.training.augmenter import create_rehearsal_fill
from spacy_rehearsal.training.checks import create_check_paths
from spacy_rehearsal.training.component.taught_ner import create_component_init, create_component_init_v1, create_component_init_v3, create_copy_ner
from spacy_rehearsal.training.one_model.callback import create_rehearsal_callback, create_rehearsal_callback_v2, create_rehearsal_callback_v3
from spacy_rehearsal.training.one_model.logger import create_rehearsal_logger, create_rehearsal_logger_v2
from spacy_rehearsal.training.reader import create_rehearsal_reader, create_rehearsal_reader_v2

# (registry, name, entry point group, the function) for every name the package promises.
REGISTERED = [
    ("readers", "rehearsal_reader.v1", "spacy_readers", create_rehearsal_reader),
    ("readers", "rehearsal_reader.v2", "spacy_readers", create_rehearsal_reader_v2),
    ("callbacks", "rehearsal_callback.v1", "spacy_callbacks", create_rehearsal_callback),
    ("callbacks", "rehearsal_callback.v2", "spacy_callbacks", create_rehearsal_callback_v2),
    ("callbacks", "rehearsal_callback.v3", "spacy_callbacks", create_rehearsal_callback_v3),
    ("callbacks", "rehearsal_check_paths.v1", "spacy_callbacks", create_check_paths),
    ("callbacks", "rehearsal_copy_ner.v1", "spacy_callbacks", create_copy_ner),
    ("callbacks", "rehearsal_component.v1", "spacy_callbacks", create_component_init_v1),
    ("callbacks", "rehearsal_component.v2", "spacy_callbacks", create_component_init),
    ("callbacks", "rehearsal_component.v3", "spacy_callbacks", create_component_init_v3),
    ("loggers", "rehearsal_logger.v1", "spacy_loggers", create_rehearsal_logger),
    ("loggers", "rehearsal_logger.v2", "spacy_loggers", create_rehearsal_logger_v2),
    ("augmenters", "rehearsal_fill.v1", "spacy_augmenters", create_rehearsal_fill),
]


@pytest.mark.parametrize("registry_name,name,group,func", REGISTERED)
def test_registered(registry_name, name, group, func):
    assert registry.has(registry_name, name)
    assert registry.get(registry_name, name) is func
    assert getattr(registry, registry_name).find(name)["module"] == func.__module__


@pytest.mark.parametrize("registry_name,name,group,func", REGISTERED)
def test_entry_point_in_installed_metadata(registry_name, name, group, func):
    (ep,) = [ep for ep in entry_points(group=group) if ep.name == name]
    assert ep.load() is func
    assert ep.dist is not None and ep.dist.name == "spacy-rehearsal"


@pytest.mark.parametrize("registry_name,name,group,func", REGISTERED)
def test_resolves_in_a_fresh_process_without_importing_the_package(registry_name, name, group, func):
    # What `spacy train` sees: nothing imports spacy_rehearsal; catalogue finds the entry point.
    code = (
        "import sys\n"
        "from spacy.util import registry\n"
        "assert 'spacy_rehearsal' not in sys.modules\n"
        f"f = registry.{registry_name}.get({name!r})\n"
        "print(f.__module__ + ':' + f.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{func.__module__}:{func.__name__}"
