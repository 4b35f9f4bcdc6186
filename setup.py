"""Build hook: `pip install .` compiles the native parts (simulator, TA, client
ABI) with `make -C enclave` and ships them inside the package, so a Spark
worker needs nothing but the installed wheel."""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildNativeThenPy(build_py):
    def run(self):
        subprocess.check_call(["make", "-C", os.path.join(HERE, "enclave"), "all", "-j2"])
        super().run()
        built = os.path.join(HERE, "enclave", "build", "lib")
        target = os.path.join(self.build_lib, "teespark", "_native")
        if os.path.isdir(target):
            shutil.rmtree(target)
        shutil.copytree(built, target)


class BinaryDistribution(Distribution):
    """The wheel carries native code, so it is platform-specific."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildNativeThenPy}, distclass=BinaryDistribution)
