# Sphinx configuration of the documentation site (`make docs`; docs/build_site.py stages the sources and runs Sphinx).
#
# Why Sphinx + myst-nb: nbdev's own site needs Quarto, which does not install from PyPI. myst-nb renders the notebooks'
# committed outputs (execution off), honours the remove-input/remove-output cell tags that the Quarto marks are mapped
# to, renders the show_doc Markdown, and Sphinx gives a searchable site with a navigation tree. Measured on the same
# staged notebooks (22 library notebooks, 13 sections with 39 committed runs), one thread: Sphinx 11.5 s of CPU and a
# 23 MB site; mkdocs-jupyter (mkdocs-material) 27.7 s of CPU and 71 MB (figures inlined as base64).
# The theme is sphinx-book-theme (Jupyter Book's, made for notebook sites); it bundles its fonts and scripts, so the pages load
# nothing from a CDN and the site works offline (tests/test_docs.py checks every page it opens).
project = "defective_cnn"
author = "defective_cnn developers"
copyright = "2026 onwards, defective_cnn developers"

extensions = ["myst_nb"]
nb_execution_mode = "off"  # the pages show the outputs committed in the notebooks; nothing is run at build time
nb_render_markdown_format = "myst"  # show_doc's Markdown has tables
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]  # the notebooks write $p$, $g_{k+1} = \mu g_k + ...$
myst_dmath_allow_space = False  # "$x$" is math, "costs $5 or $6" is not
myst_heading_anchors = 3  # [text](#a-heading) and page.md#a-heading links between the Markdown pages
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]
exclude_patterns = [".doctrees", "**/.ipynb_checkpoints"]

# MathJax from the PyPI package jupyter-server-mathjax (MathJax 2.7, served by Jupyter), copied into the site's _static:
# Sphinx's default would load MathJax from a CDN. Without the package, math shows as its TeX source.
try:
    import jupyter_server_mathjax
except ImportError:
    myst_enable_extensions = []
else:
    from pathlib import Path

    html_static_path = [str(Path(jupyter_server_mathjax.__file__).parent / "static")]
    mathjax_path = "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
    # the package ships the STIX-Web web font only (as Jupyter configures it), not MathJax's default TeX fonts
    # myst-nb marks a notebook's page tex2jax_ignore and its math "math" (MathJax 3 options): the same for MathJax 2
    mathjax2_config = {"HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None},
                       "tex2jax": {"processClass": "tex2jax_process|math|output_area"}}

html_theme = "sphinx_book_theme"  # made for notebook sites (Jupyter Book's); its CSS, JS and icon fonts ship in the package
html_title = "defective_cnn"
html_theme_options = {"home_page_in_toc": True, "show_navbar_depth": 1, "use_download_button": False, "use_fullscreen_button": False,
                      "use_repository_button": False, "use_issues_button": False, "use_edit_page_button": False,
                      "use_source_button": False, "navigation_with_keys": False, "extra_footer": ""}
html_show_sourcelink = False
html_copy_source = False
html_show_sphinx = False
