from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest

from scones.settings import PROJECT_ROOT
from scones.workflow.components import FUNCTIONS
from scones.workflow.errors import PackagingError
from scones.workflow.packaging import ZIP_EPOCH, code_sha256, package_function


@pytest.mark.parametrize("folder", FUNCTIONS)
def test_each_function_ships_its_handler_and_nothing_else(folder):
    package = package_function(PROJECT_ROOT / "lambdas", folder)
    with zipfile.ZipFile(io.BytesIO(package.zip_bytes)) as archive:
        assert archive.namelist() == ["handler.py"]
        info = archive.getinfo("handler.py")
        assert info.date_time == ZIP_EPOCH
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644
        assert archive.read("handler.py") == (PROJECT_ROOT / "lambdas" / folder / "handler.py").read_bytes()


def test_the_same_code_gives_the_same_bytes_whatever_the_file_times(source_dir):
    first = package_function(source_dir / "lambdas", "classify_image")
    handler = source_dir / "lambdas" / "classify_image" / "handler.py"
    os.utime(handler, (1_900_000_000, 1_900_000_000))
    os.chmod(handler, 0o600)
    again = package_function(source_dir / "lambdas", "classify_image")
    assert again.zip_bytes == first.zip_bytes
    assert again.code_sha256 == first.code_sha256 == code_sha256(first.zip_bytes)


def test_changed_code_changes_the_sha(source_dir):
    before = package_function(source_dir / "lambdas", "filter_inferences").code_sha256
    handler = source_dir / "lambdas" / "filter_inferences" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    assert package_function(source_dir / "lambdas", "filter_inferences").code_sha256 != before


def test_a_folder_without_handler_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackagingError, match="has no handler.py"):
        package_function(tmp_path, "empty")


def test_code_sha256_is_what_lambda_reports(moto_aws):
    package = package_function(PROJECT_ROOT / "lambdas", "filter_inferences")
    role = moto_aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    created = moto_aws("lambda").create_function(
        FunctionName="f",
        Runtime="python3.11",
        Role=role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": package.zip_bytes},
    )
    assert created["CodeSha256"] == package.code_sha256
