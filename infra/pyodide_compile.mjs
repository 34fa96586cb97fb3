// Compiles a directory's modules to CPython bytecode with Pyodide, the CPython of the Lambda
// runtime's version built for WebAssembly (infra/bytecode.py runs it where no CPython of that
// version is installed). Its compiler is CPython's own, so the .pyc files are what that CPython
// writes: the same options as infra/bytecode.py gives `python -m compileall`.
//
//   node infra/pyodide_compile.mjs <directory> <task root>
//
// Exits 1, with compileall's report of each module that does not compile, if any does not.
import { loadPyodide } from "pyodide";

const [directory, taskRoot] = process.argv.slice(2);
if (!directory || !taskRoot) {
  console.error("usage: node pyodide_compile.mjs <directory> <task root>");
  process.exit(2);
}
// A fixed hash seed: frozenset constants are written in iteration order, which follows it.
const pyodide = await loadPyodide({ env: { PYTHONHASHSEED: "0" } });
pyodide.setStdout({ batched: (line) => console.log(line) });
pyodide.setStderr({ batched: (line) => console.error(line) });
pyodide.FS.mkdirTree("/asset");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: directory }, "/asset");
pyodide.globals.set("task_root", taskRoot);
const compiled = pyodide.runPython(`
import compileall, py_compile, re

compileall.compile_dir(
    "/asset",
    quiet=1,  # name only the modules that fail
    stripdir="/asset",
    prependdir=task_root,
    rx=re.compile(r"/(bin|tests)/"),  # the wheels' console scripts and test suites: never imported
    workers=1,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
)
`);
process.exit(compiled ? 0 : 1);
