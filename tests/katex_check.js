// Reads a JSON list of {"tex": "...", "display": true|false} on stdin and
// prints a JSON list of error messages (null where a fragment is fine).
// KaTeX runs in strict mode: anything it would only warn about is an error.
const katex = require("katex");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((f) => {
    try {
      katex.renderToString(f.tex, { displayMode: f.display, throwOnError: true, strict: "error" });
      return null;
    } catch (e) {
      return String(e.message || e);
    }
  });
  process.stdout.write(JSON.stringify(out));
});
