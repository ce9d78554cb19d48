"""Set-up tools: get a machine ready for the course and say what is wrong with it.

Who imports this: the ``mpcourse`` command (:mod:`~helpers.setup.cli`), ``make install`` and
Binder's ``postBuild`` (``python -m helpers.setup.labsetup``), and lesson 00
(:func:`helpers.setup.doctor.run_doctor`). Never a child process, except the doctor's own probe.

- :mod:`~helpers.setup.cli`: the ``mpcourse`` command (``doctor``, ``grade``).
- :mod:`~helpers.setup.doctor`: checks Python, the course install, Jupyter and a spawned child.
- :mod:`~helpers.setup.labsetup`: installs the course's JupyterLab settings.
"""

__all__: list[str] = []
