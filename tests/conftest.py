"""Test-wide settings: CPU only, and a private run index so tests never touch ~/.jaxplaus."""

import os
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ["JAXPLAUS_HOME"] = tempfile.mkdtemp(prefix="jaxplaus-test-home-")

import jax  # noqa: E402

# identical programs compiled by different tests are compiled once
jax.config.update("jax_compilation_cache_dir", os.path.join(os.environ["JAXPLAUS_HOME"], "jax-cache"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
