"""What templates see of a solved network, and of a check report on one.

The render layer wraps these (render/views.py): it supplies number printing
(``f``), the Jinja environment the pictures are drawn with, the options and
the dict of extra files, and adds what is kind-neutral (the quiz blanks'
tolerances, the --round table).  The notation is chosen here, bound to the
problem before anything is rendered (``p.n``), and never changed by a
template.
"""

from __future__ import annotations

from types import SimpleNamespace

from ...functions import optimizers
from ...lang import Text
from ...trace import RoundedKeys
from .. import kit
from . import notation
from .figure import layout


class ProblemView(RoundedKeys):
    """One solved network problem, as templates see it."""


    @property
    def eta(self):
        """The learning rate of the first update, from the trace (what the
        statement gives; every update records its own, LayerTrace.eta)."""
        return self.trace.steps[0].layers[0].eta

    def __init__(self, trace, number: int, services):
        self.trace = trace
        self.number = number
        self.problem = trace.problem
        self.steps = trace.steps
        self.notes = trace.notes
        self._s = services
        self._figs: dict = {}
        self.n = notation.choose(services.options.notation)().bind(self.problem)

    # -- the network picture -------------------------------------------------
    def figure_for(self, values: bool = True):
        key = bool(values)
        if key not in self._figs:
            self._figs[key] = layout(self.trace, values=key)
        return self._figs[key]

    def _draw(self, name: str, values: bool) -> str:
        return self._s.env.get_template(name).render(fig=self.figure_for(values), f=self._s.f, tr=self._s.tr).strip()

    def figure_svg_for(self, values: bool = True) -> str:
        return self._draw("net/figures/network.svg.j2", values)

    def figure_tikz_for(self, values: bool = True) -> str:
        return self._draw("net/figures/network.pict.j2", values)

    def figure_link_for(self, values: bool = True) -> str:
        """Markdown image target: a file beside the output, or a data URI."""
        import base64

        svg = self.figure_svg_for(values) + "\n"
        options, files = self._s.options, self._s.files
        if files is not None and options.figure_prefix and options.figures != "inline":
            name = f"{options.figure_prefix}-network-{self.number}{'' if values else '-blank'}.svg"
            files[name] = svg
            return name
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")

    @property
    def title(self) -> str:
        return self.problem.name

    @property
    def sizes(self) -> list[int]:
        return self.problem.sizes

    @property
    def L(self) -> int:
        return len(self.problem.layers)

    @property
    def m_total(self) -> int:
        return len(self.problem.examples)

    # -- the optimizer -------------------------------------------------------
    @property
    def optimizer(self):
        return self.problem.optimizer

    def opt_updates(self, step, lt) -> list:
        """One layer's optimizer update per parameter (W, then b unless the
        biases are frozen), as templates/common/optimizer.j2 reads it."""
        opt, n = self.problem.optimizer, self.n
        if opt.plain or not lt.opt:
            return []
        l = lt.index
        out = []
        for param in ("W", "b"):
            if param not in lt.opt_dir:
                continue
            names = opt.quantity_names(param)
            entries = [(name.rsplit("_", 1)[0], lt.opt[name]) for name in names]
            state = {k: M for k, M in entries}
            before = {s: lt.opt_before[f"{s}_{param}"] for s in opt.state}
            if param == "W":
                th, g = n.W(l), n.dW(l)
                th_e = lambda i, j, l=l: n.w_e(l, i + 1, j + 1)  # noqa: E731
                g_e = lambda i, j, l=l: n.dW_e(l, i + 1, j + 1)  # noqa: E731
            else:
                th, g = n.b(l), n.db(l)
                th_e = lambda i, j, l=l: n.b_e(l, i + 1)  # noqa: E731
                g_e = lambda i, j, l=l: n.db_e(l, i + 1)  # noqa: E731
            out.append(SimpleNamespace(
                param=param, th=th, g=g, th_e=th_e, g_e=g_e,
                theta=getattr(lt, param), grad=getattr(lt, f"grad_{param}"), new=getattr(lt, f"{param}_new"),
                before=before, entries=entries, state_of=state.get,
                direction=lt.opt_dir[param], denom=(lt.opt_root or {}).get(param),
                acc=opt.accumulator, eta=lt.eta, t=step.index,
                mat=self._s.f.mat, arg=self._s.f.mat))
        return out

    # -- the quiz ------------------------------------------------------------
    def quiz_quantities(self, step) -> list:
        """The quantities a quiz asks for in one update, in the order they
        are worked (the asked quantities of the trace, delta as the notation
        writes it), each with what bounds its blanks' tolerance: |new - old|
        of an updated value, |value| of a nonzero gradient (so the old
        weight, 0 and the negated gradient are refused), and ``rounded(d)``:
        the entry in the key of someone working to d decimals."""
        n = self.n
        items = []
        for q in self.trace.quantities(step):
            if not q.asked:
                continue
            key = q.key
            name, layer, M = key.name, key.where, q.value
            old = gradient = None
            if name == "loss":
                label, symbol, field = "J", n.J, "loss"
            elif name in ("z", "a"):
                label, symbol, field = f"{name}, layer {layer}", getattr(n, name)(layer), name
            elif name == "delta":
                lt = step.layers[layer - 1]
                field = "delta" if n.batch_in_delta else "dz_ex"
                label, symbol, M, gradient = f"delta, layer {layer}", n.delta(layer), getattr(lt, field), True
            elif name in ("grad_W", "grad_b"):
                label = f"dJ/d{name[-1]}, layer {layer}"
                symbol, field, gradient = (n.dW if name == "grad_W" else n.db)(layer), name, True
            elif name not in ("W_new", "b_new"):  # an optimizer's state entry: m_hat_W
                stem, param = name.rsplit("_", 1)
                label = f"{name}, layer {layer}"
                th = (n.W if param == "W" else n.b)(layer)
                symbol, field, gradient = optimizers.state_symbol(stem, th), name, True
            else:  # W_new, b_new
                label = f"updated {name[0]}, layer {layer}"
                symbol, field = getattr(n, name[0])(layer) + r"_{\text{new}}", name
                old = getattr(step.layers[layer - 1], name[0])
            bounds = kit.quiz_bounds(M, old, gradient)
            items.append(SimpleNamespace(label=label, symbol=symbol, matrix=M, bounds=bounds, key=q.key, old=old,
                                         rounded=self._rounded_at(step, field, layer)))
        return items

    def _rounded_at(self, step, name, layer):
        def at(i, j):
            def get(d):
                key = self._rounded_key(d)
                if key is None:
                    return None
                st = key.steps[step.index - 1]
                if name == "loss":
                    return st.loss.total
                M = getattr(st.layers[layer - 1], name)
                return None if M is None else M[i, j]
            return get
        return at


    # -- conventions ---------------------------------------------------------
    @property
    def conventions_key(self) -> tuple:
        """What the conventions list depends on: like problems share it."""
        p = self.problem
        return (p.loss.name, p.batch, bool(p.l2), p.update_biases, p.update, len(p.layers),
                tuple(l.activation.convention for l in p.layers), p.optimizer.name, p.optimizer.epsilon_inside)

    @property
    def conventions(self) -> list[str]:
        """Kink conventions of the activations this network uses (lang.Text)."""
        seen = []
        for layer in self.problem.layers:
            c = layer.activation.convention
            if c and c not in seen:
                seen.append(c)
        return seen

    @property
    def kink_notes(self) -> list[str]:
        out = []
        for step in self.steps:
            for l, i, j in step.kinks:
                act = self.problem.layers[l - 1].activation
                key = "net.conv.kink_where" + ("_example" if step.m > 1 else "") + ("_step" if len(self.steps) > 1 else "")
                where = Text(key, unit=i, layer=l, example=step.examples[j - 1], step=step.index)
                out.append(Text("net.conv.kink_note", where=where, rule=act.kink_rule))
        return out


class ReportParts:
    """What the check report's templates see of a network: where an entry
    sits, in words, and the facts its formulas need."""

    def __init__(self, report, tr):
        self.tr = tr
        trace = report.trace
        self.trace = trace
        self.problem = trace.problem
        self.L = len(self.problem.layers)
        self.l2 = bool(self.problem.l2)
        self.mean = self.problem.batch == "mean"
        self.several_steps = len(trace.steps) > 1

    def rule_of(self, it) -> str:
        """The output rule of the item's step (chain, softmax_ce, ...)."""
        return self.trace.steps[it.step - 1].output_rule

    def optimized(self, it) -> bool:
        """Whether the item is an optimizer's state entry, or an update made with one."""
        opt = self.problem.optimizer
        return not opt.plain and (it.quantity in ("W_new", "b_new") or it.quantity[:-2] in opt.shown)

    def entry(self, it) -> str:
        """Where an entry sits, in words: 'unit 2', 'unit 2, example 3', '(1, 2)'."""
        if it.quantity == "loss":
            return ""
        if it.quantity in ("grad_W", "W_new") or it.quantity.endswith("_W"):
            return self.tr("check.net.entry_cell", row=it.row, col=it.col)
        if it.quantity in ("grad_b", "b_new") or it.quantity.endswith("_b"):
            return self.tr("check.net.entry_unit", unit=it.row)
        step = self.trace.steps[it.step - 1]
        if step.m == 1:
            return self.tr("check.net.entry_unit", unit=it.row)
        return self.tr("check.net.entry_unit_example", unit=it.row, example=step.examples[it.col - 1])

    def where(self, it) -> str:
        """'step 1, layer 1, z, unit 2' or 'step 1, J'."""
        tr = self.tr
        if it.quantity == "loss":
            where = tr("check.net.where_loss")
        else:
            e = self.entry(it)
            where = tr("check.net.where_entry" if e else "check.net.where", layer=it.layer, quantity=it.quantity, entry=e)
        return tr("check.net.where_step", step=it.step, where=where) if self.several_steps else where


#: the kit's name for what templates see of one problem
view = ProblemView


#: the heading of the worked solution's section that derives each quantity
_SECTION = {"z": "h.forward", "a": "h.forward", "loss": "h.loss", "delta": "h.backward", "grad_W": "h.backward",
            "grad_b": "h.backward"}


def step_section(sections: list, place: dict, tr, several: bool) -> str:
    """The worked derivation of one quantity (the practice page's "Show the
    step"): the step's section that derives it -- the forward pass, the loss,
    the backward pass or the update -- narrowed to its layer's block where the
    section has one per layer."""
    import re

    step = int(place.get("step", 1))
    quantity = place.get("quantity", "")
    html = kit.section(sections, tr(_SECTION.get(quantity, "h.update")), step) or ""
    layer = place.get("layer")
    if layer in (None, "None") or quantity not in _SECTION:
        return html
    blocks = re.split(r"(?=<p><strong>)", html)
    names = {tr("net.layer", l=layer), tr("net.output_layer", l=layer), tr("net.hidden_layer", l=layer)}
    mine = [b for b in blocks if re.match(r"<p><strong>(.*?)</strong>", b) and
            re.match(r"<p><strong>(.*?)</strong>", b).group(1) in names]
    return blocks[0] + "".join(mine) if mine else html
