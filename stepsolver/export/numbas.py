"""A Numbas exam (.exam: its version line, then JSON) with adaptive marking.

One question group per exercise picks one variant per student; each
variant is one question with a gap-fill part per quantity and a
number-entry gap per entry, in worked order.

Every asked entry has two question variables: ``v<k>_<i>_<j>``, its true
value, and -- where its step has a formula (marking/formulas.py: the
replay ``check`` marks with, read back) -- ``f<k>_<i>_<j>``, that formula
of the ``v`` variables it is worked from.  A gap marks against ``f``
(else ``v``) within the blank's tolerance (export/quiz.py, as the Moodle
blank: honest 2-decimal working passes, the old weight, 0 and the negated
gradient do not), and names the gaps of the ``v`` variables it uses as
variable replacements.  Numbas marks with the true values first and, where
that is not full credit, again with the student's own earlier answers put
in (strategy "originalfirst"), so a slip costs only the entries it makes
wrong.  An updated value within the tolerance of the value before the
update earns nothing, whatever the student's gradient (no marks for work
not done).  Layout of the question text is the templates'; this module
writes data.
"""

from __future__ import annotations

import json

from .jme import jme, literal, true_literal

#: the version line of the exam format (the last of the Numbas compiler's migrations)
VERSION = "finer_feedback_settings"
HEADER = f"// Numbas version: {VERSION}\n"


def exam(title: str, groups: list) -> str:
    """The .exam text.  ``groups``: (exercise title, [question dict, ...])."""
    data = {
        "name": title,
        "metadata": {"description": "", "licence": "None specified"},
        "duration": 0,
        "percentPass": 0,
        "showQuestionGroupNames": True,
        "shuffleQuestionGroups": False,
        "showstudentname": True,
        "allowPrinting": True,
        "question_groups": [
            {"name": name, "pickingStrategy": "random-subset", "pickQuestions": 1, "questionNames": ["" for _ in qs],
             "variable_overrides": [[] for _ in qs], "questions": qs}
            for name, qs in groups
        ],
        "navigation": {"allowregen": False, "reverse": True, "browse": True, "allowsteps": True,
                       "showfrontpage": True, "showresultspage": "oncompletion", "navigatemode": "sequence",
                       "onleave": {"action": "none", "message": ""}, "preventleave": True, "startpassword": ""},
        "timing": {"allowPause": True, "timeout": {"action": "none", "message": ""},
                   "timedwarning": {"action": "none", "message": ""}},
        "feedback": {"enterreviewmodeimmediately": True, "showexpectedanswerswhen": "inreview",
                     "showpartfeedbackmessageswhen": "always", "showactualmarkwhen": "always",
                     "showtotalmarkwhen": "always", "showanswerstatewhen": "always", "showadvicewhen": "inreview",
                     "allowrevealanswer": True, "intro": "", "end_message": "", "results_options":
                         {"printquestions": True, "printadvice": True}, "feedbackmessages": []},
        "diagnostic": {"knowledge_graph": {"topics": [], "learning_objectives": []}, "script": "diagnosys",
                       "customScript": ""},
        "contributors": [],
        "extensions": [],
        "custom_part_types": [],
        "resources": [],
    }
    return HEADER + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def question(name: str, statement: str, parts: list, tr) -> dict:
    """One variant.  ``parts``: per quantity (prompt HTML with ``[[g]]`` where
    gap g goes, and its gaps: blank namespaces with ``var``, ``formula``
    (a tree or None), ``value``, ``tolerance``, ``decimals``, ``old`` and
    ``entries``: every entry's (var, true value) of the quantity, given ones
    too, so formulas may refer to them)."""
    variables: dict = {}
    where: dict = {}  # v-variable -> the path of the gap that asks for it
    for k, part in enumerate(parts):
        for var, value in part.entries:
            variables[var] = _variable(var, true_literal(value))
        for g, b in enumerate(part.gaps):
            where[b.var] = f"p{k}g{g}"
    out_parts = []
    for k, part in enumerate(parts):
        gaps = []
        for g, b in enumerate(part.gaps):
            answer, replacements = b.var, []
            if b.formula is not None:
                fvar = "f" + b.var[1:]
                variables[fvar] = _variable(fvar, jme(b.formula))
                answer = fvar
                replacements = [{"variable": r, "part": where[r]}
                                for r in _refs(b.formula) if r in where]
            gaps.append(_gap(answer, b, replacements, tr))
        out_parts.append({"type": "gapfill", "marks": 0, "prompt": part.prompt, "gaps": gaps, "sortAnswers": False})
    return {
        "name": name, "tags": ["stepsolver"], "metadata": {"description": "", "licence": "None specified"},
        "statement": statement, "advice": "", "rulesets": {}, "extensions": [], "builtin_constants":
            {"e": True, "pi,\u03c0": True, "i": True, "j": False},
        "constants": [], "variables": variables, "variablesTest": {"condition": "", "maxRuns": 100},
        "ungrouped_variables": list(variables), "variable_groups": [], "functions": FUNCTIONS,
        "preamble": {"js": "", "css": ""}, "parts": out_parts, "partsMode": "all", "maxMarks": 0,
        "objectives": [], "penalties": [], "objectiveVisibility": "always", "penaltyVisibility": "always",
    }


def _variable(name: str, definition: str) -> dict:
    return {"name": name, "definition": definition}


def _refs(tree) -> list[str]:
    from ..exact.symbolic import refs

    return refs(tree)


#: the question's marking functions (JME), written once per question: ``ss_ok`` -- within the
#: tolerance t of the true value v; or the formula's value f (at the student's own earlier answers, where
#: Numbas puts them in) to the digits they wrote -- at least the d the gap asks for -- or within t,
#: whichever is wider; ``ss_old`` -- the value before the update, to the digits written, where
#: the update worked from the values marked against (f) changes it: copied, not worked
FUNCTIONS = {
    "ss_ok": {"parameters": [["x", "number"], ["v", "number"], ["f", "number"], ["t", "number"],
                             ["dp", "number"], ["d", "number"]],
              "type": "boolean", "language": "jme",
              "definition": "abs(x-v)<=t or abs(x-f)<=max(t,0.5001*10^(-max(dp,d)))"},
    "ss_old": {"parameters": [["x", "number"], ["old", "number"], ["f", "number"], ["dp", "number"]],
               "type": "boolean", "language": "jme",
               "definition": "abs(x-old)<=0.5*10^(-dp) and abs(f-old)>0.5*10^(-dp)"},
}


def _gap(answer: str, b, replacements: list, tr) -> dict:
    """One number-entry gap: the settings Numbas does not default, and the
    marking note that replaces its ``numberInRange``."""
    tol = literal(float(b.tolerance))
    gap = {"type": "numberentry", "marks": 1, "minValue": f"{answer}-{tol}", "maxValue": f"{answer}+{tol}",
           "correctAnswerStyle": "plain",
           # the compiled (XML) exam reads a missing use condition as "0": this part's answer would never be
           # put into the parts worked from it
           "adaptiveMarkingUseCondition": "true"}
    if replacements:
        gap["variableReplacements"] = replacements
        gap["variableReplacementStrategy"] = "originalfirst"
    verdict = (f"if(ss_ok(studentNumber,{b.var},{answer},{tol},countdp(cleanedStudentAnswer),{b.decimals or 2}),"
               "correct(),incorrect();end())")
    if b.old is not None:
        message = json.dumps(tr("numbas.old_copied"), ensure_ascii=False)
        verdict = (f"if(ss_old(studentNumber,{literal(b.old_float)},{answer},countdp(cleanedStudentAnswer)),"
                   f"incorrect({message});end(),{verdict})")
    if answer != b.var or b.old is not None:
        gap["customMarkingAlgorithm"] = f"numberInRange:\n {verdict}\n"
        gap["extendBaseMarkingAlgorithm"] = True
    return gap
