"""What a crawl process loads before its first request (issue 11: start-up costs what it must).

Scrapy's remote control and telnet console are off; they are not even imported (Scrapy imports
every extension class it is given, the remote control brings aiohttp), while every other
extension of Scrapy's base list stays. The taxonomy and sites files are read with libyaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from scrapy.settings import Settings
from scrapy.settings import default_settings as scrapy_defaults

from core import config
from crawlers import settings as project_settings
from pipelines import taxonomy

LEFT_OUT = {"scrapy.extensions.remote_control.RemoteControl",
            "scrapy.extensions.telnet.TelnetConsole"}


def test_the_extensions_are_scrapys_without_remote_control_and_telnet() -> None:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    extensions = settings.get_component_priority_dict_with_base("EXTENSIONS")
    assert set(extensions) == set(scrapy_defaults.EXTENSIONS_BASE) - LEFT_OUT
    assert not settings.getbool("REMOTE_CONTROL_ENABLED")
    assert not settings.getbool("TELNETCONSOLE_ENABLED")
    # No helper of the settings module became a setting (Scrapy reads upper-case names).
    assert not [name for name in settings.attributes if name.startswith("_")]


def test_a_crawler_loads_its_extensions_without_importing_the_left_out_ones() -> None:
    code = """
import sys
from scrapy.extension import ExtensionManager
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from crawlers import settings as project_settings
settings = Settings()
settings.setmodule(project_settings, priority="project")
# What Scrapy's extension manager loads (then builds, each declining or not).
paths = ExtensionManager._get_mwlist_from_settings(settings)
print(",".join(load_object(path).__name__ for path in paths))
print("scrapy.extensions.remote_control" in sys.modules, "aiohttp" in sys.modules,
      "scrapy.extensions.telnet" in sys.modules)
"""
    root = Path(__file__).resolve().parents[1]
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True, cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)}).stdout.splitlines()
    assert "CoreStats" in output[0].split(",")
    assert output[1] == "False False False"


def test_the_yaml_files_are_read_with_libyaml_when_pyyaml_has_it() -> None:
    expected = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
    assert config.SAFE_YAML_LOADER is expected
    assert taxonomy.SAFE_YAML_LOADER is expected
    # The same document either way: safe constructors only.
    text = "a: 1\nb: [x, 2.5, null, 2024-01-02]\nc: {d: yes}\n"
    assert yaml.load(text, Loader=expected) == yaml.safe_load(text)
