"""Build script: the package, its bundled models, and the optional C extension.

The metadata lives in pyproject.toml. The C form of the search's inner loop
(`gilcheck/explore/_records.c`) is compiled here, at build time, with the compiler Python
was built with; where none is found, the build goes on without it and gilcheck runs its
pure-Python loop (`gilcheck --version` says which).
"""

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Builds the C extension when it can; says so and goes on when it cannot."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler at all, or a broken toolchain
            self.warn(f"the C extension was not built ({error}); gilcheck will run in pure Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            self.warn(f"the C extension was not built ({error}); gilcheck will run in pure Python")


setup(
    packages=[
        *find_packages(include=["gilcheck", "gilcheck.*"]),
        "gilcheck.report.schema",
        "gilcheck.bundled_models",
    ],
    package_dir={"gilcheck.bundled_models": "models"},
    package_data={
        "gilcheck": ["py.typed"],
        "gilcheck.syntax": ["grammar.lark"],
        "gilcheck.report": ["player.css", "player.js"],
        "gilcheck.report.schema": ["*.json"],
        "gilcheck.bundled_models": ["*.gil"],
    },
    ext_modules=[
        Extension(
            "gilcheck.explore._records",
            sources=["gilcheck/explore/_records.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
