"""Installs defective_cnn from the settings nbdev reads (settings.ini)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools
from setuptools.command.build_py import build_py

here = Path(__file__).parent
config = ConfigParser(delimiters=["="])
config.read(here / "settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]


def _split(key):
    return cfg.get(key, "").split()


def section_files():
    "The section notebooks (nbs/*.ipynb not starting with a digit, '_' or 'index', as freshness.section_notebooks) and the run file."
    nbs = here / cfg["nbs_path"]
    notebooks = [p for p in sorted(nbs.glob("*.ipynb")) if not (p.name[0].isdigit() or p.name.startswith(("_", "index")))]
    return notebooks + [here / "papermill_runs" / "runs.yaml"]


class build_py_with_sections(build_py):
    "Also copy the section notebooks and runs.yaml into the built package as defective_cnn/notebooks/, so that a wheel can run them."

    def run(self):
        super().run()
        if self.editable_mode:  # an editable install runs from its checkout, which has nbs/
            return
        files = section_files()
        missing = [str(p) for p in files if not p.exists()]
        if missing or len(files) < 2:
            raise FileNotFoundError(f"cannot package the section notebooks: missing {', '.join(missing) or 'nbs/*.ipynb'}")
        target = Path(self.build_lib) / cfg["lib_path"] / "notebooks"
        self.mkpath(str(target))
        for source in files:
            self.copy_file(str(source), str(target / source.name))

    def get_outputs(self, include_bytecode=True):
        target = Path(self.build_lib) / cfg["lib_path"] / "notebooks"
        return super().get_outputs(include_bytecode) + [str(target / p.name) for p in section_files()]


setuptools.setup(
    cmdclass={"build_py": build_py_with_sections},
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(here / "README.md").read_text(encoding="utf-8") if (here / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license="Apache-2.0",
    keywords=cfg["keywords"].split(),
    url=cfg["git_url"],
    project_urls={"Source": cfg["git_url"]},
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Science/Research",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
    packages=setuptools.find_packages(include=[cfg["lib_path"], cfg["lib_path"] + ".*"]),
    include_package_data=True,
    python_requires=">=" + cfg["min_python"],
    install_requires=_split("requirements"),
    # every `<extra>_requirements` key of settings.ini is an extra: dev, ray
    extras_require={key[: -len("_requirements")]: _split(key) for key in cfg if key.endswith("_requirements")},
    entry_points={
        "console_scripts": cfg.get("console_scripts", "").split(),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
    zip_safe=False,
)
