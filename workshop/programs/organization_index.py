"""Finding an organisation from what someone wrote: an official code, a name or a label, forgiving
case, punctuation and the prefixes offices write ("Desa", "Kec.", "Kantor Camat")."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workshop.db import Session
from workshop.programs.models import Organization, OrgKind


def _match_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return " ".join(re.sub(r"[.,;:/()\-–]+", " ", text).split())


_PREFIX_KINDS = {
    "desa": OrgKind.DESA,
    "kelurahan": OrgKind.DESA,
    "kel": OrgKind.DESA,
    "kantor desa": OrgKind.DESA,
    "kantor kepala desa": OrgKind.DESA,
    "pemerintah desa": OrgKind.DESA,
    "pemdes": OrgKind.DESA,
    "kantor lurah": OrgKind.DESA,
    "kecamatan": OrgKind.KECAMATAN,
    "kec": OrgKind.KECAMATAN,
    "kantor camat": OrgKind.KECAMATAN,
    "camat": OrgKind.KECAMATAN,
}
_KIND_PREFIX = re.compile(
    rf"^({'|'.join(sorted(map(re.escape, _PREFIX_KINDS), key=len, reverse=True))})\s+(.+)$"
)
_DISTRICT_SUFFIX = re.compile(r"^(.+?)\s+(?:kecamatan|kec)\s+(.+)$")


@dataclass(frozen=True)
class OrgRef:
    """What the checks need of an organisation: read once, then used away from the session (the
    rows of a roster are checked in a worker thread, see registration/roster/views.py)."""

    id: int
    name: str
    label: str
    kind: OrgKind
    parent_id: int | None
    parent_name: str


class OrganizationIndex:
    """Finds an organisation by official code, name or label, forgiving case and punctuation.

    'Hutatoruan I, Kec. Tarutung', 'Desa Hutatoruan I', 'hutatoruan i kecamatan tarutung' and
    'Kec. Tarutung' all find their village or sub-district; a village's name with a sub-district
    from its own column ("Sibalanga" and "Garoga") finds the village of that sub-district.
    """

    def __init__(self, organizations: list[OrgRef], codes: dict[str, OrgRef]):
        self.by_code = codes
        self.by_key: dict[str, list[OrgRef]] = defaultdict(list)
        for org in organizations:
            for key in {_match_key(org.name), _match_key(org.label)}:
                self.by_key[key].append(org)

    @classmethod
    def load(cls, session: Session) -> OrganizationIndex:
        found = session.scalars(select(Organization).options(selectinload(Organization.parent))).all()
        refs = {
            org.id: OrgRef(
                org.id, org.name, org.label, org.kind, org.parent_id, org.parent.name if org.parent else ""
            )
            for org in found
        }
        codes = {org.code.strip().lower(): refs[org.id] for org in found if org.code}
        return cls(list(refs.values()), codes)

    def _candidates(self, key: str) -> list[OrgRef]:
        found = self.by_key.get(key, [])
        if found:
            return list(dict.fromkeys(found))
        prefixed = _KIND_PREFIX.match(key)
        if prefixed:
            kind = _PREFIX_KINDS[prefixed.group(1)]
            found = [org for org in self._candidates(prefixed.group(2)) if org.kind == kind]
            if found:
                return found
        split = _DISTRICT_SUFFIX.match(key)
        if split:
            district = _match_key(split.group(2))
            return [
                org
                for org in self._candidates(split.group(1))
                if org.parent_id is not None and _match_key(org.parent_name) == district
            ]
        return []

    def districts(self, text: str) -> list[OrgRef]:
        """The sub-districts (kecamatan) a text names: 'Tarutung', 'Kec. Tarutung', 'KECAMATAN TARUTUNG'."""
        key = _match_key(text)
        prefixed = _KIND_PREFIX.match(key)
        if prefixed and _PREFIX_KINDS[prefixed.group(1)] == OrgKind.KECAMATAN:
            key = prefixed.group(2)
        return [org for org in self._candidates(key) if org.kind == OrgKind.KECAMATAN]

    def match(
        self, code: str, text: str, village: str = "", district: str = ""
    ) -> tuple[OrgRef | None, dict | None]:
        """The organisation, or None and the problem to report. `text` is the organisation as
        written; without it the village; `district` narrows both when it is given."""
        code, text, village, district = code.strip(), text.strip(), village.strip(), district.strip()
        if code:
            org = self.by_code.get(code.lower())
            if org is not None:
                return org, None
        name, field_name = (text, "organization") if text else (village, "village")
        in_district = self.districts(district) if district else []
        if not name:
            if len(in_district) == 1:
                return in_district[0], None
            if district:
                return None, _problem("unknown_district", "district", value=district)
            if code:
                return None, _problem("unknown_organization_code", "org_code", value=code)
            return None, _problem("missing_organization", "organization")
        found = self._candidates(_match_key(name))
        if field_name == "village":
            found = [org for org in found if org.kind == OrgKind.DESA]
        if district and found:
            district_ids = {district_org.id for district_org in in_district}
            inside = [org for org in found if org.id in district_ids or org.parent_id in district_ids]
            if inside:
                found = inside
            elif in_district and all(org.kind == OrgKind.DESA for org in found):
                return None, _problem(
                    "village_not_in_district",
                    field_name,
                    value=name,
                    district=in_district[0].name,
                    actual="; ".join(org.label for org in found),
                )
            elif not in_district and len(found) > 1:
                return None, _problem("unknown_district", "district", value=district)
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            return None, _problem("ambiguous_organization", field_name, value=name, example=found[0].label)
        return None, _problem("unknown_organization", field_name, value=name)


def _problem(code: str, field_name: str, **args) -> dict:
    return {"code": code, "field": field_name, "args": args}
