"""Implementation size: the non-blank, non-comment lines of each models/*_jax.py against its
*_torch.py (reporting/tables.py; read as text, nothing imported)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reporting.markdown import fmt, md_table
from reporting.sections.base import Context, Section
from reporting.tables import implementation_size

if TYPE_CHECKING:
    from reporting.model import Report


class Size(Section):
    name = "size"
    title = "Implementation size (non-blank, non-comment lines)"
    order = 100

    def rows(self, ctx: Context) -> list[dict]:
        return implementation_size(ctx.models)

    def markdown(self, r: Report) -> list[str]:
        out = ["", f"## {self.title}", ""]
        if not r.rows[self.name]:
            return out + ["No models/*_jax.py + *_torch.py pairs found."]
        return out + [md_table(["model", "JAX", "PyTorch", "JAX/PyTorch"],
                               [[x["model"], x["jax_lines"], x["torch_lines"], fmt(x["ratio"])]
                                for x in r.rows[self.name]])]
