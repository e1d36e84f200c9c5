"""What templates see of one solved graph: the statement, each forward line,
each local derivative, each backward sum and each update as (formula,
numbers, result), the conventions, the picture and the quiz quantities.
The layout is the templates' (templates/graph/)."""

from __future__ import annotations

from types import SimpleNamespace

from ...errors import RenderError
from ...functions import optimizers
from ...lang import Text
from ...trace import RoundedKeys
from .. import kit
from . import display, expr
from .expr import ELEMENTWISE, Bin, Fn, Neg, Ref, shape_of

PRESETS = ("bar", "partial", "cs231n", "ng")
#: the network kind's presets, read as the nearest graph preset
ALIASES = {"default": "bar", "grosse": "bar", "nielsen": "partial", "netout": "partial"}


class GraphNotation:
    """Symbols of a graph: display names and the gradient symbol of the preset."""

    def __init__(self, preset: str, problem):
        self.preset = preset
        self.problem = problem
        self.symbols = problem.symbols

    def name(self, v: str) -> str:
        return display.name_latex(v, self.symbols)

    def grad(self, v: str) -> str:
        s = self.name(v)
        if self.preset == "bar":
            return f"\\bar{{{s}}}" if len(v) == 1 or (len(s) <= 2 and s.isalpha()) else f"\\overline{{{s}}}"
        if self.preset == "partial":
            return f"\\frac{{\\partial {self.name(self.problem.output)}}}{{\\partial {s}}}"
        return f"d{s}" if len(s) == 1 else f"d{{{s}}}"

    def local(self, c: str, v: str) -> str:
        return f"\\frac{{\\partial {self.name(c)}}}{{\\partial {self.name(v)}}}"

    @property
    def describe(self) -> str:
        return {"bar": "v̄ = ∂L/∂v (the bar notation of the lecture notes)", "partial": "∂L/∂v written out",
                "cs231n": "dv = ∂L/∂v (cs231n)", "ng": "dv = ∂J/∂v (Andrew Ng)"}[self.preset]


def choose(name: str):
    preset = ALIASES.get(name, name)
    if preset not in PRESETS:
        raise RenderError(f"unknown graph notation {name!r} (known: {', '.join(PRESETS)})")
    return preset


class GraphView(RoundedKeys):
    """One solved graph, as templates see it."""

    def __init__(self, trace, number: int, services):
        self.trace = trace
        self.number = number
        self.problem = trace.problem
        self.s = trace.steps[0]
        self._s = services
        self.f = services.f
        self.n = GraphNotation(choose(services.options.notation), self.problem)

    # -- writing values ----------------------------------------------------
    def val(self, M) -> str:
        f = self.f
        if M.shape == (1, 1):
            return f.num(M[0, 0])
        return f.mat(M)

    def approx(self, M) -> str:
        return "\\approx " if any(self.f.rounded(x) for x in M.entries()) else ""

    def rel(self, M) -> str:
        """The sign before a result: = where it is exact as shown, else approx."""
        return "\\approx" if self.approx(M) else "="

    def _operand(self, M) -> str:
        """A value inside a product: a negative number in parentheses."""
        t = self.val(M)
        return f"\\left({t}\\right)" if M.shape == (1, 1) and t.startswith("-") else t

    def _num_leaf(self, name: str) -> str:
        M = self.s.values[name]
        t = self.val(M)
        return f"\\left({t}\\right)" if M.shape == (1, 1) and t.startswith("-") else t

    def _num(self, q) -> str:
        return self.f.num(q)

    def shape_text(self, name: str) -> str:
        n, m = self.problem.by_name[name].shape
        return "" if (n, m) == (1, 1) else f"{n}\\times{m}"

    # -- the statement -----------------------------------------------------
    @property
    def leaves(self) -> list:
        return [SimpleNamespace(name=n.name, sym=self.n.name(n.name), role=n.role, value=self.val(n.value),
                                grad=self.problem.gets_grad(n.name)) for n in self.problem.leaves]

    @property
    def nodes_tex(self) -> list:
        return [f"{self.n.name(n.name)} = {display.latex(n.tree, self.n.name, self._num)}" for n in self.problem.inner]

    # -- forward -----------------------------------------------------------
    @property
    def forward(self) -> list:
        rows = []
        for n in self.problem.inner:
            formula = display.latex(n.tree, self.n.name, self._num)
            numbers = display.latex(n.tree, self._num_leaf, self._num)
            M = self.s.values[n.name]
            rows.append(SimpleNamespace(name=n.name, sym=self.n.name(n.name), formula=formula, numbers=numbers,
                                        value=self.val(M), rel=self.rel(M), same=numbers == formula,
                                        entries=self._entries(n, M), steps=self._layer_steps(n)))
        return rows

    @property
    def recurrence_table(self):
        """A recurrence's forward pass as a table: one row per step, one column per name of the cell
        (a vector or matrix written inline), or None for a graph without one."""
        p = self.problem
        if p.recurrence is None:
            return None
        steps, cell = p.recurrence
        rows = []
        for k in range(1, steps + 1):
            row = [str(k)]
            for c in cell:
                M = self.s.values.get(f"{c}{k}")
                if M is None:
                    row.append("")
                elif M.shape == (1, 1):
                    row.append(self.f.num(M[0, 0]))
                else:
                    row.append("\\left[" + ",\\ ".join(self.f.num(x) for x in M.entries()) + "\\right]")
            rows.append(row)
        symbols = [self.n.name(c) for c in cell]
        wide = len(cell) > 6 or any(self.s.values[f"{c}1"].shape != (1, 1) for c in cell)
        # vectors, or many names: one row per name and a column per step, so that the table fits a page
        return SimpleNamespace(symbols=symbols, rows=rows, by_name=wide, steps=steps)

    def _layer_steps(self, n) -> list:
        """What a teacher writes before a normalisation's result: the means,
        the variances (biased, divided by N) and x-hat, each as formula =
        numbers = result."""
        env = {v: self.s.values[v] for v in n.parents}
        ev = expr.Evaluator(f"node {n.name}")
        return [line for t in expr.subtrees(n.tree) if isinstance(t, Fn) and t.name in expr.NORMS
                for line in self._norm_lines(t, ev.value(t.args[0], env))]

    def _norm_lines(self, t, X) -> list:
        axis = 0 if t.name == "batchnorm" else 1
        k = "i" if axis == 0 else "j"
        N = X.n if axis == 0 else X.m
        xs = display.latex(t.args[0], self.n.name, self._num)
        mu = expr._reduce(X, axis, lambda sl: expr._total(sl) / len(sl))
        ev = expr.Evaluator("norm")
        var = expr._reduce(X, axis, ev._var)
        eps = t.opts[0]
        hat = expr._from_slices([ev._norm(sl, eps)[0] for sl in expr._slices(X, axis)], axis)
        lines = [
            f"\\mu = \\frac{{1}}{{{N}}} \\textstyle\\sum_{{{k}}} {xs} {self.rel(mu)} {self.val(mu)}",
            f"\\sigma^{{2}} = \\frac{{1}}{{{N}}} \\textstyle\\sum_{{{k}}} \\left({xs} - \\mu\\right)^{{2}} "
            f"{self.rel(var)} {self.val(var)}",
            f"\\hat{{x}} = \\frac{{{xs} - \\mu}}{{\\sqrt{{\\sigma^{{2}} + \\epsilon}}}},\\quad \\epsilon = {self._num(eps)}"
            f",\\quad \\hat{{x}} {self.rel(hat)} {self.val(hat)}",
        ]
        return lines

    def _entries(self, n, M) -> list:
        """--detail element: each entry of a vector or matrix node written out."""
        if self._s.options.detail != "element" or M.shape == (1, 1):
            return []
        shapes = {x.name: x.shape for x in self.problem.nodes}

        def entry(name, i, j):
            return self.f.num(self.s.values[name][i, j])

        out = []
        for i in range(M.n):
            for j in range(M.m):
                index = f"{i + 1}" if M.m == 1 else f"{i + 1}{j + 1}" if max(M.n, M.m) < 10 else f"{i + 1},{j + 1}"
                sym = self.n.name(n.name)
                lhs = f"{{{sym}}}_{{{index}}}" if "_" in sym else f"{sym}_{{{index}}}"
                x = M[i, j]
                rel = "\\approx" if self.f.rounded(x) else "="
                out.append(f"{lhs} = {display.expand(n.tree, i, j, entry, self._num, shapes)} {rel} {self.f.num(x)}")
        return out

    # -- windows: the picture of a convolution's or pooling's input ----------
    def windows_of(self, name: str) -> list:
        """For a node that convolves or pools a named value: the (padded)
        input grid with the window of the first output entry marked, as the
        window figures (graph/figures/window.*.j2) draw it."""
        node = self.problem.by_name[name]
        out = [t for t in expr.subtrees(node.tree)
               if isinstance(t, Fn) and t.name in expr.SETTINGS and isinstance(t.args[0], Ref)]
        figs = []
        for t in out:
            X = self.s.values[t.args[0].name]
            if t.name in expr.CONV:
                stride, pad = t.opts
                f, g = self.s.values[t.args[1].name].shape if isinstance(t.args[1], Ref) else (None, None)
                if f is None:
                    continue
            else:
                (f, stride), pad = t.opts, 0
                g = f
            Xp = expr.padded(X, pad)
            # rows and columns past the last window (where the windows do not tile): not covered
            last_r, last_c = Xp.n - (Xp.n - f) % stride, Xp.m - (Xp.m - g) % stride
            cells = [[SimpleNamespace(text=self.f.plain(Xp[i, j]), pad=not (pad <= i < X.n + pad and pad <= j < X.m + pad),
                                      hit=i < f and j < g, uncovered=i >= last_r or j >= last_c)
                      for j in range(Xp.m)] for i in range(Xp.n)]
            figs.append(SimpleNamespace(cells=cells, rows=Xp.n, cols=Xp.m, f=f, g=g,
                                        input=display.name_text(t.args[0].name, self.problem.symbols),
                                        node=display.name_text(name, self.problem.symbols), fn=t.name))
        return figs

    def window_svg(self, w) -> str:
        return self._s.env.get_template("graph/figures/window.svg.j2").render(w=w, tr=self._s.tr).strip()

    def window_tikz(self, w) -> str:
        return self._s.env.get_template("graph/figures/window.tikz.j2").render(w=w, tr=self._s.tr).strip()

    # -- local derivatives (scalar edges) -----------------------------------
    def _scalar(self, name: str) -> bool:
        return self.problem.by_name[name].shape == (1, 1)

    def local_formula(self, c: str, v: str):
        n = self.problem.by_name[c]
        if not (self._scalar(c) and self._scalar(v)):
            return None
        return display.local_derivative(n.tree, n.name, v)

    @property
    def locals(self) -> list:
        rows = []
        for n in self.problem.inner:
            for v in n.parents:
                d = self.local_formula(n.name, v)
                M = self.s.local.get((n.name, v))
                if d is None or M is None:
                    continue
                formula = display.latex(d, self.n.name, self._num)
                numbers = display.latex(d, self._num_leaf, self._num)
                rows.append(SimpleNamespace(child=n.name, parent=v, sym=self.n.local(n.name, v), formula=formula,
                                            numbers=numbers, value=self.val(M), rel=self.rel(M),
                                            same=numbers == formula or formula == self.val(M)))
        return rows

    @property
    def has_vector_nodes(self) -> bool:
        return any(not self._scalar(n.name) for n in self.problem.nodes)

    # -- backward ----------------------------------------------------------
    @property
    def backward(self) -> list:
        p, s, n = self.problem, self.s, self.n
        rows = []
        shapes = {x.name: x.shape for x in p.nodes}
        for node in reversed(p.nodes):
            v = node.name
            if v not in s.grads:
                continue
            G = s.grads[v]
            if v == p.output:
                rows.append(SimpleNamespace(name=v, sym=n.grad(v), seed=True, sum=None, terms=None, numbers=None,
                                            value=self.val(G), rel=self.rel(G)))
                continue
            children = [c for c in p.inner if v in c.parents and (c.name, v) in s.contrib]
            if not children:
                rows.append(SimpleNamespace(name=v, sym=n.grad(v), seed=False, sum=None, terms=None, numbers=None,
                                            value=self.val(G), rel="=", none=True))
                continue
            sums, terms, numbers = [], [], []
            for c in children:
                scalar = self._scalar(c.name) and self._scalar(v)
                sums.append(f"{n.grad(c.name)} \\cdot {n.local(c.name, v)}" if scalar else
                            f"{n.grad(c.name)} \\to {n.name(v)}")
                if scalar:
                    d = display.local_derivative(c.tree, c.name, v)
                    ft = display.latex(d, n.name, self._num)
                    terms.append(f"{n.grad(c.name)} \\cdot {_wrap(ft)}")
                    Gc = s.grads[c.name]
                    gt = self.val(Gc)
                    gt = f"\\left({gt}\\right)" if gt.startswith("-") else gt
                    nt = display.latex(d, self._num_leaf, self._num)
                    numbers.append(f"{gt} \\cdot {_wrap(nt)}")
                else:
                    rules = display.vjp_terms(c.tree, v, n.grad(c.name), n.name, shapes, own=(c.tree, n.name(c.name)),
                                              number=self._num)
                    terms.append(" + ".join(rules))
                    nrules = display.vjp_terms(c.tree, v, self.val(s.grads[c.name]), self._num_leaf, shapes,
                                               own=(c.tree, self.val(s.values[c.name])), number=self._num)
                    numbers.append(" + ".join(nrules))
            value = self.val(G)
            all_scalar = all(self._scalar(c.name) for c in children) and self._scalar(v)
            extra = [line for c in children for line in self._window_lines(c, v)]
            rows.append(SimpleNamespace(name=v, sym=n.grad(v), seed=False, none=False,
                                        sum=" + ".join(sums) if all_scalar else None,
                                        terms=" + ".join(terms), numbers=" + ".join(numbers), value=value,
                                        rel=self.rel(G), extra=extra))
        return rows

    # -- windows: the max-pool mask, the average-pool share, each entry's sum
    def _windowed(self, c, v):
        """The convolution or pooling of child c that reads v directly and
        receives c's own gradient (the whole node, or a term of a sum), or None."""
        t = c.tree
        cands = [t] + ([t.a, t.b] if isinstance(t, Bin) and t.op == "+" else [])
        for u in cands:
            if isinstance(u, Fn) and u.name in expr.SETTINGS and any(a == Ref(v) for a in u.args):
                return u
        return None

    def _window_lines(self, c, v) -> list:
        u = self._windowed(c, v)
        if u is None:
            return []
        s, n = self.s, self.n
        G = s.grads[c.name]
        out = []
        if u.name == "maxpool":
            size, stride = u.opts
            M = expr.pool_mask(s.values[v], size, stride)
            out.append(f"M_{{{n.name(v)}}} = {self.val(M)}")
        elif u.name == "avgpool":
            size, stride = u.opts
            share = G.map(lambda x: x / (size * size))
            out.append(f"\\frac{{{n.grad(c.name)}}}{{{size * size}}} {self.rel(share)} {self.val(share)}")
        if self._s.options.detail == "element" and u.name in expr.CONV:
            out += self._conv_entries(u, c, v, G)
        return out

    def _conv_entries(self, u, c, v, G) -> list:
        """--detail element: each entry of the kernel's or the input's gradient as its sum."""
        s, n, f = self.s, self.n, self.f
        stride, pad = u.opts
        X, K = (s.values[a.name] if isinstance(a, Ref) else None for a in u.args)
        if X is None or K is None:
            return []
        fk, gk = K.shape
        flip = u.name == "convolve2d"
        wrt_kernel = u.args[1] == Ref(v)

        def num(x):
            t = f.num(x)
            return f"\\left({t}\\right)" if t.startswith("-") else t

        def idx(i, j, M):
            return f"{i + 1}" if M.m == 1 else f"{i + 1}{j + 1}" if max(M.n, M.m) < 10 else f"{i + 1},{j + 1}"

        lines = []
        target = K if wrt_kernel else X
        total = s.contrib.get((c.name, v))
        if total is None or sum(1 for x in self.problem.inner if v in x.parents) != 1:
            return []  # several children: the sum is shown as matrices only
        for r in range(target.n):
            for q in range(target.m):
                terms = []
                for i in range(G.n):
                    for j in range(G.m):
                        if wrt_kernel:
                            a, b = (fk - 1 - r, gk - 1 - q) if flip else (r, q)
                            xr, xc = stride * i + a - pad, stride * j + b - pad
                            if 0 <= xr < X.n and 0 <= xc < X.m:
                                terms.append(f"{num(G[i, j])} \\cdot {num(X[xr, xc])}")
                        else:
                            a, b = r + pad - stride * i, q + pad - stride * j
                            if 0 <= a < fk and 0 <= b < gk:
                                ka, kb = (fk - 1 - a, gk - 1 - b) if flip else (a, b)
                                terms.append(f"{num(G[i, j])} \\cdot {num(K[ka, kb])}")
                value = total[r, q]
                rel = "\\approx" if f.rounded(value) else "="
                lhs = f"{{{n.grad(v)}}}_{{{idx(r, q, target)}}}"
                lines.append(f"{lhs} &= {' + '.join(terms) if terms else '0'} {rel} {f.num(value)}")
        return ["\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"]

    # -- update ------------------------------------------------------------
    @property
    def eta(self):
        """The learning rate of the update, from the trace."""
        return self.s.eta

    @property
    def update(self) -> list:
        p, s, n = self.problem, self.s, self.n
        if p.update is None:
            return []
        op = "-" if p.update.direction == "descent" else "+"
        eta = self.f.num(s.eta)
        rows = []
        for name in p.update.params:
            old = self.val(s.values[name])
            g = self.val(s.grads[name])
            g = f"\\left({g}\\right)" if g.startswith("-") else g
            M = s.new[name]
            rows.append(SimpleNamespace(name=name, formula=f"{n.name(name)} {op} \\eta\\, {n.grad(name)}",
                                        numbers=f"{old} {op} {eta} \\cdot {g}", value=self.val(M), rel=self.rel(M),
                                        sym=n.name(name)))
        return rows

    @property
    def optimizer(self):
        return self.problem.update.optimizer if self.problem.update is not None else None

    @property
    def opt_updates(self) -> list:
        """The optimizer's update of each parameter, as templates/common/optimizer.j2 reads it."""
        p, s, n = self.problem, self.s, self.n
        opt = self.optimizer
        if opt is None or opt.plain:
            return []
        ascent = p.update.direction == "ascent"
        out = []
        for name in p.update.params:
            shown = s.opt[name]
            grad = s.grads[name]
            zeros = opt.zeros(grad)
            th = n.name(name)
            g = f"\\left( -{n.grad(name)} \\right)" if ascent else n.grad(name)
            out.append(SimpleNamespace(
                param=name, th=th, g=g, th_e=lambda i, j, th=th: th, g_e=lambda i, j, g=g: g,
                theta=s.values[name], grad=-grad if ascent else grad, new=s.new[name],
                before={k: zeros[k] for k in opt.state}, entries=list(shown.items()), state_of=shown.get,
                direction=s.opt_dir[name], denom=s.opt_root[name],
                acc=opt.accumulator,
                eta=s.eta, t=1, mat=self.val, arg=self._operand, scalar=grad.shape == (1, 1)))
        return out

    # -- conventions -------------------------------------------------------
    @property
    def functions_used(self) -> set:
        """The function names and operators the nodes use."""
        return {t.name if isinstance(t, Fn) else t.op for n in self.problem.inner for t in expr.subtrees(n.tree)
                if isinstance(t, (Fn, Bin))}

    @property
    def own_functions(self) -> list:
        """The file's own functions a node applies: (name, definition, derivative) in LaTeX."""
        used = self.functions_used
        return [SimpleNamespace(name=name, tex=display.fn_tex(SimpleNamespace(name=name)),
                                definition=fn.def_tex("x"), derivative=fn.deriv_tex("x"))
                for name, fn in self.problem.functions.items() if name in used]

    @property
    def conventions(self) -> list[str]:
        p = self.problem
        used = self.functions_used
        out = []
        seed_all_one = all(x == 1 for x in p.seed.entries())
        start = "one" if seed_all_one and p.seed.shape == (1, 1) else "seed" if not seed_all_one else "ones"
        out.append(Text(f"graph.conv.start_{start}", output=display.name_text(p.output, p.symbols)))
        if any(not self._scalar(n.name) for n in p.nodes):
            out.append(Text("graph.conv.entrywise"))
        if p.recurrence is not None:
            steps, cell = p.recurrence
            out.append(Text("graph.conv.recurrence", cell=", ".join(cell), steps=steps))
            if p.truncate:
                cut = sorted({c for c, _ in p.held}, key=lambda c: [n.name for n in p.nodes].index(c))
                out.append(Text("graph.conv.truncate", k=p.truncate,
                                held=", ".join(f"{v} → {c}" for c, v in sorted(p.held, key=lambda e: cut.index(e[0]))) or "—"))
        if "relu" in used:
            out.append(Text("graph.conv.relu"))
        if "leaky_relu" in used:
            out.append(Text("graph.conv.leaky_relu", slope=self.f.plain(_slope(p))))

        if "abs" in used:
            out.append(Text("graph.conv.abs"))
        if used & {"max", "min"}:
            out.append(Text("graph.conv.tie"))
        if used & {"conv2d", "convolve2d"}:
            out.append(Text("graph.conv.conv_cross"))
        if "convolve2d" in used:
            out.append(Text("graph.conv.conv_flip"))
        if "maxpool" in used:
            out.append(Text("graph.conv.pool_max"))
        if "avgpool" in used:
            out.append(Text("graph.conv.pool_avg"))
        if self._overlapping():
            out.append(Text("graph.conv.overlap"))
        for name, t, (r, c) in self._uncovered():
            out.append(Text("graph.conv.uncovered", which=Text("graph.conv.uncovered_which", rows=r, cols=c,
                                                               input=display.name_text(name, p.symbols))))
        if self._broadcasts():
            out.append(Text("graph.conv.broadcast"))
        if used & {"mean", "var"} or any(self._axes()):
            out.append(Text("graph.conv.axis"))
        if used & {"softmax", "log_softmax"}:
            out.append(Text("graph.conv.softmax"))
        for fn in ("batchnorm", "layernorm"):
            for t in self._calls(fn):
                out.append(Text(f"graph.conv.{fn}", eps=self.f.plain(t.opts[0])))
        for t in self._calls("dropout"):
            out.append(Text("graph.conv.dropout", p=self.f.plain(t.opts[0])))
        if "embedding" in used:
            out.append(Text("graph.conv.embedding"))
        if p.update is not None and p.update.optimizer.plain:
            out.append(Text(f"graph.conv.{p.update.direction}"))
        return out

    def _calls(self, name: str) -> list:
        """Every call of the function ``name`` in the graph's nodes, once per distinct call."""
        found = []
        for n in self.problem.inner:
            for t in expr.subtrees(n.tree):
                if isinstance(t, Fn) and t.name == name and t not in found:
                    found.append(t)
        return found

    def _axes(self) -> list:
        return [t.opts[0] for fn in ("sum",) for t in self._calls(fn) if t.opts and t.opts[0] is not None]

    def _uncovered(self) -> list:
        """(input name, call, (rows, columns) not covered) of each convolution or pooling whose windows do not tile."""
        out = []
        for fn in expr.SETTINGS:
            for t in self._calls(fn):
                if not isinstance(t.args[0], Ref):
                    continue
                k = shape_of(t.args[1], self._shapes, "display") if fn in expr.CONV else None
                r, c = expr.uncovered(t, self._shapes[t.args[0].name], k)
                if r or c:
                    out.append((t.args[0].name, t, (r, c)))
        return out

    def _broadcasts(self) -> bool:
        """Whether an operation repeats a row or a column (not a scalar) to another shape."""
        shapes = self._shapes
        for n in self.problem.inner:
            for t in expr.subtrees(n.tree):
                if isinstance(t, Bin) and t.op != "@":
                    a, b = shape_of(t.a, shapes, "display"), shape_of(t.b, shapes, "display")
                    if a != b and a != (1, 1) and b != (1, 1):
                        return True
        return False

    def _overlapping(self) -> bool:
        """Whether some convolution or pooling has windows that overlap."""
        for fn in expr.CONV:
            for t in self._calls(fn):
                f, g = shape_of(t.args[1], self._shapes, "display")
                if t.opts[0] < max(f, g):
                    return True
        return any(t.opts[1] < t.opts[0] for fn in expr.POOL for t in self._calls(fn))

    @property
    def _shapes(self) -> dict:
        return {x.name: x.shape for x in self.problem.nodes}

    @property
    def kink_notes(self) -> list[str]:
        return [Text("graph.conv.kink_note", node=display.name_text(node, self.problem.symbols), fn=fn)
                for node, fn in self.s.kinks]

    # -- the picture -------------------------------------------------------
    def figure_for(self):
        from .figure import layout

        if not hasattr(self, "_fig"):
            self._fig = layout(self)
        return self._fig

    def figure_svg(self, values: bool = True) -> str:
        """The picture; without ``values`` (an exercise sheet) only the given
        values label their edges: no computed value, no gradient."""
        return self._s.env.get_template("graph/figures/graph.svg.j2").render(
            fig=self.figure_for(), f=self.f, tr=self._s.tr, values=values).strip()

    def figure_tikz(self, values: bool = True) -> str:
        return self._s.env.get_template("graph/figures/graph.tikz.j2").render(
            fig=self.figure_for(), f=self.f, tr=self._s.tr, values=values).strip()

    def figure_link(self, values: bool = True) -> str:
        import base64

        files = self._s.files
        svg = self.figure_svg(values)
        prefix = self._s.options.figure_prefix
        if files is not None and prefix and self._s.options.figures != "inline":
            name = f"{prefix}-graph-{self.number}{'' if values else '-questions'}.svg"
            files[name] = svg + "\n"
            import os

            return os.path.basename(name)
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()

    # -- quiz --------------------------------------------------------------
    def quiz_quantities(self, step) -> list:
        items = []
        for q in self.trace.quantities(step):
            if not q.asked:
                continue
            name, what, M = q.key.where, q.key.name, q.value
            if what in ("value", "grad", "new"):
                sym = {"value": self.n.name(name), "grad": self.n.grad(name),
                       "new": self.n.name(name) + r"_{\text{new}}"}[what]
                label = {"value": name, "grad": f"grad {name}", "new": f"new {name}"}[what]
            else:  # an optimizer's state entry
                sym, label = optimizers.state_symbol(what, self.n.name(name)), f"{what} {name}"
            old = self.s.values[name] if what == "new" else None
            bounds = kit.quiz_bounds(M, old, gradient=what not in ("value", "new"))
            items.append(SimpleNamespace(label=label, symbol=sym, matrix=M, bounds=bounds, key=q.key, old=old,
                                         rounded=self._rounded_at(q.key)))
        return items

    def _rounded_at(self, key):
        def at(i, j):
            def get(d):
                t = self._rounded_key(d)
                if t is None:
                    return None
                st = t.steps[0]
                table = {"value": st.values, "grad": st.grads, "new": st.new}.get(key.name)
                if table is None:  # an optimizer's state entry
                    table = {k: d.get(key.name) for k, d in st.opt.items()}
                M = table.get(key.where)
                return None if M is None else M[i, j]
            return get
        return at



def _wrap(s: str) -> str:
    return display.factor(s)


class ReportParts:
    """What the check report's templates see of a graph."""

    def __init__(self, report, tr):
        self.tr = tr
        self.trace = report.trace
        self.problem = report.trace.problem

    def optimized(self, it) -> bool:
        """Whether the item is an optimizer's state entry, or an update made with one."""
        up = self.problem.update
        return up is not None and not up.optimizer.plain and it.quantity not in ("value", "grad")

    def scalar(self, it) -> bool:
        return self.problem.by_name[it.layer].shape == (1, 1)

    def entry(self, it) -> str:
        st = self.trace.steps[0]
        table = {"value": st.values, "grad": st.grads, "new": st.new}.get(it.quantity)
        M = table.get(it.layer) if table is not None else st.opt.get(it.layer, {}).get(it.quantity)
        if M is None or M.shape == (1, 1):
            return ""
        if M.m == 1:
            return self.tr("check.graph.entry", row=it.row)
        return self.tr("check.graph.entry_cell", row=it.row, col=it.col)

    def where(self, it) -> str:
        what = self.tr(f"check.graph.what.{it.quantity}")
        e = self.entry(it)
        return self.tr("check.graph.where_entry" if e else "check.graph.where", node=it.layer, what=what, entry=e)

    def formula_tex(self, it, n) -> str:
        p = self.problem
        if it.quantity == "value":
            node = p.by_name[it.layer]
            return f"{n.name(node.name)} = {display.latex(node.tree, n.name)}"
        if it.quantity == "grad":
            children = [c.name for c in p.inner if it.layer in c.parents]
            return f"{n.grad(it.layer)} = " + (" + ".join(f"{n.grad(c)} \\cdot {n.local(c, it.layer)}" for c in children)
                                               or "0")
        op = "-" if p.update.direction == "descent" else "+"
        return f"{n.name(it.layer)} \\leftarrow {n.name(it.layer)} {op} \\eta\\, {n.grad(it.layer)}"

    def formula_txt(self, it) -> str:
        p = self.problem
        nm = lambda v: display.name_text(v, p.symbols)  # noqa: E731
        bar = lambda v: nm(v)[:1] + "\u0304" + nm(v)[1:]  # noqa: E731 - the bar on the first letter: L̄_reg
        if it.quantity == "value":
            from .expr import show

            node = p.by_name[it.layer]
            return f"{nm(node.name)} = {show(node.tree)}"
        if it.quantity == "grad":
            children = [c.name for c in p.inner if it.layer in c.parents]
            return f"{bar(it.layer)} = " + (" + ".join(f"{bar(c)} ∂{nm(c)}/∂{nm(it.layer)}" for c in children) or "0")
        op = "−" if p.update.direction == "descent" else "+"
        return f"{nm(it.layer)} ← {nm(it.layer)} {op} η {bar(it.layer)}"


__all__ = ["GraphView", "ReportParts", "GraphNotation", "ELEMENTWISE"]


def _slope(p):
    """leaky_relu's slope below 0 in a graph file (its leaky_slope, else 0.01)."""
    from ...exact import Q

    return p.leaky_slope if p.leaky_slope is not None else Q(1, 100)


#: the kit's name for what templates see of one problem
view = GraphView


def step_section(sections: list, place: dict, tr, several: bool) -> str:
    """The worked derivation of one quantity (the practice page's "Show the
    step"): the forward pass for a node's value, the local derivatives and the
    backward pass for a gradient, the update for a new value or the
    optimizer's state."""
    step = int(place.get("step", 1))
    quantity = place.get("quantity", "")
    if quantity == "value":
        heads = ["h.forward"]
    elif quantity == "grad":
        heads = ["h.locals", "h.backward"]
    else:
        heads = ["h.update"]
    return "".join(kit.section(sections, tr(h), step) or "" for h in heads)
