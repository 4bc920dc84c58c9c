"""Who acts on an inquiry, and which inquiries they may see."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Inquiry, Staff
from core.vocab import UNIT_ROLES, Role


@dataclass(frozen=True)
class Actor:
    kind: str  # "staff", "citizen" or "system"
    name: str
    staff_id: int | None = None
    role: Role | None = None
    unit_id: int | None = None

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls(
            kind="staff",
            name=staff.display_name,
            staff_id=staff.id,
            role=Role(staff.role),
            unit_id=staff.unit_id,  # type: ignore[attr-defined]
        )

    @classmethod
    def citizen(cls, name: str = "来信人") -> Actor:
        return cls(kind="citizen", name=name)

    @classmethod
    def system(cls, name: str = "系统") -> Actor:
        return cls(kind="system", name=name)

    @property
    def is_unit_staff(self) -> bool:
        return self.role in UNIT_ROLES

    def can_see(self, inquiry: Inquiry) -> bool:
        """Unit staff see their own unit's inquiries only; desk, supervisors and admins see all."""
        if self.kind != "staff":
            return True
        if self.is_unit_staff:
            return self.unit_id is not None and inquiry.unit_id == self.unit_id  # type: ignore[attr-defined]
        return True
