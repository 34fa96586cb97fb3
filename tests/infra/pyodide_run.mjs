// Runs Python code in Pyodide (CPython 3.13 on WebAssembly, as `npm ci` installs it), with host
// directories mounted at the same paths and first on sys.path, for tests/infra/test_bundling.py:
// what Pyodide compiled is loaded and run by a CPython 3.13 here, where none is installed.
//
//   node tests/infra/pyodide_run.mjs <code> <directory>...
import { loadPyodide } from "pyodide";

const [code, ...directories] = process.argv.slice(2);
const pyodide = await loadPyodide({ env: { PYTHONDONTWRITEBYTECODE: "1" } });
pyodide.setStdout({ batched: (line) => console.log(line) });
pyodide.setStderr({ batched: (line) => console.error(line) });
for (const directory of directories) {
  pyodide.FS.mkdirTree(directory);
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: directory }, directory);
}
pyodide.globals.set("directories", pyodide.toPy(directories));
try {
  pyodide.runPython(`import sys; sys.path[:0] = directories\n${code}`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
