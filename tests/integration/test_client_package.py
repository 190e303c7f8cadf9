"""The client as front-end developers get it: `npm pack`, installed from the
tarball into a project of their own, imported from Node and type-checked.

Nothing here reads the repository's sources: the scratch project sees only
what the tarball holds, so a file missing from `files`, an `exports` entry
pointing nowhere or declarations that do not compile fail here, not in a
user's build. TypeScript, TanStack Query and React come from the npm registry
(or the npm cache) at the versions the package itself is developed against.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("node")]

CLIENT = ROOT / "packages" / "client"
NODE = shutil.which("node")
NPM = shutil.which("npm")

# A consumer's view of the wire: every name below comes from the package's
# declarations, which are generated from docs/openapi.json and docs/events.schema.json.
CONSUMER_TS = """\
import {
  ApiClient,
  ApiError,
  RealtimeClient,
  ResourceCache,
  Uploader,
  type Chapter,
  type ControlMessage,
  type Course,
  type RestPaths,
  type ServerEvent,
  type UploadView,
} from '@course-media/client';
import { useCourseMediaQueries, useUpload } from '@course-media/client/react';
import { QueryBinding, UPLOADS_KEY } from '@course-media/client/tanstack';
import { UppyProgress, type UppyProgressOptions } from '@course-media/client/uppy';
import { QueryClient } from '@tanstack/query-core';

const api = new ApiClient({ baseUrl: 'https://api.example.com', token: () => 'jwt' });
const cache = new ResourceCache({ api, userId: 'alice' });
const realtime = new RealtimeClient({ url: 'wss://ws.example.com/prod', token: () => 'jwt' });
const uploader = new Uploader({ api });

type CourseBody =
  RestPaths['/courses/{courseId}']['get']['responses']['200']['content']['application/json'];
const course: CourseBody = {} as Course;

export function itemsOf(chapter: Chapter): string[] {
  return chapter.items.map((item) => `${item.filename} (${item.size} bytes)`);
}

export function describe(event: ServerEvent): string {
  // The envelope always has operationId and courseId (null when none).
  const where: string | null = event.courseId ?? event.operationId;
  switch (event.type) {
    case 'media.linked':
      return event.data ? `${event.data.media.mediaId} in ${event.data.chapter.title}` : `${where}`;
    case 'upload.progress':
      return event.data ? `${event.data.percent}% of ${event.data.totalBytes}` : `${where}`;
    default:
      return event.type;
  }
}

realtime.onEvent((event) => cache.applyEvent(event));
realtime.onControl((message: ControlMessage) => {
  if (message.type === 'subscribed' && message.data) realtime.lastSeq(message.data.channel);
});
cache.watchUploads((uploads: UploadView[]) => uploads.map((u) => u.bytesUploaded / u.totalBytes));
const retryable: boolean = new ApiError(503, 'unavailable', 'busy').retryable;
const binding = new QueryBinding({
  queryClient: new QueryClient(),
  userId: 'alice',
  routes: { '/courses/{courseId}/chapters': ['chapters', 'list', '{courseId}'] },
});
binding.connect(realtime);
const key: readonly unknown[] = binding.queryKey('/courses/c_1/chapters');
const bars: UploadView[] = binding.uploads();
export function Bar({ operationId }: { operationId: string }): number | null {
  useCourseMediaQueries({ realtime, userId: 'alice', routes: { '/media': ['media-files'] } });
  const upload: UploadView | undefined = useUpload(operationId);
  return upload ? upload.bytesUploaded / upload.totalBytes : null;
}
const progress: UppyProgressOptions = { api, intervalMs: 250 };
void [course, uploader, retryable, key, bars, UPLOADS_KEY, UppyProgress, progress];
"""

# What a front end written against an old field name gets: a type error.
STALE_TS = """\
import type { Chapter } from '@course-media/client';
export const url = (chapter: Chapter): string => chapter.items[0].videoUrl;
"""

# The optional peers the subpaths' declarations refer to, at the tested versions.
PEERS = ("@tanstack/query-core", "@tanstack/react-query", "react", "@types/react")

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "skipLibCheck": False,
        "target": "es2022",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "lib": ["es2022", "dom", "dom.iterable"],
        "types": [],
    },
    "include": ["*.ts"],
}


@dataclass(frozen=True)
class Scratch:
    folder: Path
    tarball: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (fixed arguments)
            list(args), cwd=self.folder, capture_output=True, text=True, timeout=300, check=False
        )

    def tsc(self, *files: str) -> subprocess.CompletedProcess[str]:
        assert NODE is not None
        (self.folder / "tsconfig.json").write_text(
            json.dumps({**TSCONFIG, "include": list(files)}, indent=2)
        )
        return self.run(NODE, "node_modules/typescript/bin/tsc", "-p", ".")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Scratch:
    if NODE is None or NPM is None:
        pytest.skip("Node.js and npm are not installed")
    if not (ROOT / "node_modules" / "typescript").exists():
        pytest.skip("the npm workspace is not installed: run `make npm-deps`")
    packed = tmp_path_factory.mktemp("packed")
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [NPM, "pack", "--json", "--pack-destination", str(packed)],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (info,) = json.loads(result.stdout[result.stdout.index("[") :])
    tarball = packed / info["filename"]

    folder = tmp_path_factory.mktemp("app")
    (folder / "package.json").write_text(
        json.dumps({"name": "scratch-app", "private": True, "type": "module"})
    )
    dev = json.loads((CLIENT / "package.json").read_text())["devDependencies"]
    project = Scratch(folder=folder, tarball=tarball)
    installed = project.run(
        NPM,
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        str(tarball),
        f"typescript@{dev['typescript']}",
        *(f"{name}@{dev[name]}" for name in PEERS),
    )
    assert installed.returncode == 0, installed.stderr
    return project


def test_the_tarball_holds_the_sources_the_declarations_and_the_changelog(
    scratch: Scratch,
) -> None:
    installed = scratch.folder / "node_modules" / "@course-media" / "client"
    assert not installed.is_symlink(), "installed from the tarball, not linked to the repository"
    manifest = json.loads((installed / "package.json").read_text())
    version = json.loads((CLIENT / "package.json").read_text())["version"]
    assert manifest["version"] == version
    assert f"## {version}" in (installed / "CHANGELOG.md").read_text()
    for path in ("src/index.js", "types/index.d.ts", "generated/openapi.d.ts"):
        assert (installed / path).is_file(), f"{path} is not in the tarball"
    assert not (installed / "test").exists(), "the package's own tests do not ship"


def test_node_imports_the_installed_package_by_its_name(scratch: Scratch) -> None:
    assert NODE is not None
    script = (
        "const m = await import('@course-media/client');"
        "const t = await import('@course-media/client/tanstack');"
        "const api = new m.ApiClient({ baseUrl: 'https://api.example.com/', token: () => null });"
        "console.log(JSON.stringify({ exports: Object.keys(m).sort(), base: api.baseUrl,"
        " delay: m.backoffDelay(3, { baseMs: 100, maxMs: 200 }) <= 200,"
        " binding: typeof t.QueryBinding }));"
    )
    result = scratch.run(NODE, "--input-type=module", "-e", script)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert {"ApiClient", "ApiError", "RealtimeClient", "ResourceCache", "Uploader"} <= set(
        seen["exports"]
    )
    assert seen["base"] == "https://api.example.com"
    assert seen["delay"] is True
    assert seen["binding"] == "function"


def test_a_typescript_app_type_checks_against_the_installed_declarations(
    scratch: Scratch,
) -> None:
    (scratch.folder / "app.ts").write_text(CONSUMER_TS)
    result = scratch.tsc("app.ts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_field_the_server_does_not_send_fails_the_type_check(scratch: Scratch) -> None:
    (scratch.folder / "stale.ts").write_text(STALE_TS)
    result = scratch.tsc("stale.ts")
    assert result.returncode != 0
    assert "Property 'videoUrl' does not exist" in result.stdout, result.stdout
