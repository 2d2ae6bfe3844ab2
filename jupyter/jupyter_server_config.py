# `make lab`: JupyterLab on this repository, a chapter source (notebooks/*.py) opening as a
# notebook. jupytext's server extension (installed with jupytext) serves the py:percent
# files as notebooks; lab-settings/overrides.json makes "Jupytext Notebook" their default
# viewer, so a double click opens one as a notebook rather than as text.
from pathlib import Path

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

ROOT = Path(__file__).resolve().parent.parent

c = get_config()  # noqa: F821 (provided by the Jupyter config loader)
c.ServerApp.root_dir = str(ROOT)
c.LabServerApp.app_settings_dir = str(ROOT / "jupyter" / "lab-settings")


class RepositoryRootKernelManager(AsyncMappingKernelManager):
    """Kernels start in the repository root, as the chapter runner (papermill, cwd=ROOT)
    starts them, so a chapter's relative paths (results_dir=".cache/results") mean the same
    when a reader runs it here."""

    def cwd_for_path(self, path, **kwargs):
        return str(ROOT)


c.ServerApp.kernel_manager_class = RepositoryRootKernelManager
