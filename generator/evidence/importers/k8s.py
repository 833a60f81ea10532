"""``k8s-rbac``: who is bound to which role in a Kubernetes cluster.

Reads the JSON of ``kubectl get rolebindings,clusterrolebindings -A -o json`` (a ``List``
of ``RoleBinding`` and ``ClusterRoleBinding`` objects; a ``RoleBindingList``, a
``ClusterRoleBindingList`` or a single binding is read too), with the fields documented in
the Kubernetes API reference:
https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/role-binding-v1/,
https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/cluster-role-binding-v1/
(subjects: https://kubernetes.io/docs/reference/kubernetes-api/definitions/subject-v1-rbac/).

One row per subject and bound role:

* account: a ``User`` by its name; a ``ServiceAccount`` as Kubernetes names it in audit
  logs, ``system:serviceaccount:<namespace>:<name>``; a ``Group`` as ``group:<name>`` (its
  members are in the identity provider, not in the cluster);
* entitlement: ``ClusterRole/<name>`` for a ClusterRoleBinding (cluster-wide), and
  ``<namespace>/Role/<name>`` or ``<namespace>/ClusterRole/<name>`` for a RoleBinding
  (only in that namespace);
* account_type: ServiceAccounts, ``system:`` users (the control plane's own identities)
  and the groups ``system:serviceaccounts[:<namespace>]`` and ``system:nodes`` are
  ``service``; other users and groups (``system:masters`` too) ``employee``. The mapping's
  ``account_types`` and ``privileged_entitlements`` (e.g. ``ClusterRole/cluster-admin``)
  say who is privileged;
* person: the mapping's ``people`` (e.g. an OIDC user name -> directory ID); else empty.

A binding without subjects grants nothing and gives no row. The export carries no time
of its own: ``--extracted-at`` is required.
"""

from __future__ import annotations

from typing import Any

from ...diagnostics import Location
from ...model import AccountType
from .core import AccountMapping, Importer, JsonPlaces, Parsed, Row, load_json

_BINDINGS = {"RoleBinding", "ClusterRoleBinding"}
_LISTS = {"List", "RoleBindingList", "ClusterRoleBindingList"}
_API_VERSIONS = {"rbac.authorization.k8s.io/v1"}
_SUBJECT_KINDS = {"User", "Group", "ServiceAccount"}
_ABOUT = "kubectl get rolebindings,clusterrolebindings -A -o json"
_MACHINE_GROUPS = {"system:serviceaccounts", "system:nodes"}
"""Groups of machine identities only; other groups (system:masters too) hold people."""


class K8sRbac(Importer):
    name = "k8s-rbac"
    version = 1
    title = "Kubernetes RBAC bindings"
    docs = (
        "https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/role-binding-v1/",
        "https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/cluster-role-binding-v1/",
        "https://kubernetes.io/docs/reference/kubernetes-api/definitions/subject-v1-rbac/",
    )

    def suffix(self, raw: bytes) -> str:
        return ".json"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        data, text = load_json(raw, shown)
        places = JsonPlaces(text, shown)
        if not isinstance(data, dict):
            raise places.error((), "expected a Kubernetes object (kubectl … -o json)")
        kind = data.get("kind")
        if kind in _BINDINGS:
            items: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
        elif kind in _LISTS and isinstance(data.get("items"), list):
            items = [(("items", i), item) for i, item in enumerate(data["items"])]
        else:
            raise places.error(
                ("kind",) if "kind" in data else (),
                f"kind {kind!r} is not a List of RoleBinding and ClusterRoleBinding objects "
                "(kubectl get rolebindings,clusterrolebindings -A -o json)",
            )
        rows: list[Row] = []
        empty: list[str] = []
        for path, item in items:
            found = _binding(item, path, places)
            if not found:
                empty.append(_name(item))
            rows.extend(found)
        notes = (
            [f"{len(empty)} binding(s) without subjects grant nothing: {', '.join(empty[:5])}"]
            if empty
            else []
        )
        return Parsed(rows, about=_ABOUT, notes=notes)


def _name(item: dict[str, Any]) -> str:
    meta = item.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))


def _text(places: JsonPlaces, path: tuple[str | int, ...], value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise places.error(path, f"{what} must be a non-empty string (got {value!r})")
    return value.strip()


def _binding(item: Any, path: tuple[str | int, ...], places: JsonPlaces) -> list[Row]:
    if not isinstance(item, dict):
        raise places.error(path, "expected a binding object")
    kind = item.get("kind")
    if kind not in _BINDINGS:
        raise places.error(
            (*path, "kind"), f"kind {kind!r} is not RoleBinding or ClusterRoleBinding"
        )
    if item.get("apiVersion") not in _API_VERSIONS:
        raise places.error(
            (*path, "apiVersion"),
            f"apiVersion {item.get('apiVersion')!r} is not rbac.authorization.k8s.io/v1",
        )
    meta = item.get("metadata")
    if not isinstance(meta, dict):
        raise places.error((*path, "metadata"), "a binding has metadata")
    _text(places, (*path, "metadata", "name"), meta.get("name"), "metadata.name")
    namespace = meta.get("namespace")
    if kind == "RoleBinding":
        namespace = _text(
            places, (*path, "metadata", "namespace"), namespace, "a RoleBinding's namespace"
        )
    ref = item.get("roleRef")
    if not isinstance(ref, dict):
        raise places.error((*path, "roleRef"), "roleRef (the bound role) is required")
    ref_kind = _text(places, (*path, "roleRef", "kind"), ref.get("kind"), "roleRef.kind")
    role = _text(places, (*path, "roleRef", "name"), ref.get("name"), "roleRef.name")
    if ref_kind not in ("Role", "ClusterRole") or (
        kind == "ClusterRoleBinding" and ref_kind == "Role"
    ):
        raise places.error((*path, "roleRef", "kind"), f"a {kind} cannot refer to a {ref_kind!r}")
    entitlement = (
        f"{namespace}/{ref_kind}/{role}" if kind == "RoleBinding" else f"ClusterRole/{role}"
    )
    subjects = item.get("subjects")
    if subjects is None:
        return []
    if not isinstance(subjects, list):
        raise places.error((*path, "subjects"), "subjects must be a list")
    rows = []
    for index, subject in enumerate(subjects):
        where = (*path, "subjects", index)
        if not isinstance(subject, dict):
            raise places.error(where, "a subject is an object with kind and name")
        subject_kind = subject.get("kind")
        if subject_kind not in _SUBJECT_KINDS:
            raise places.error(
                (*where, "kind"),
                f"subject kind {subject_kind!r} is not User, Group or ServiceAccount",
            )
        name = _text(places, (*where, "name"), subject.get("name"), "a subject's name")
        if subject_kind == "ServiceAccount":
            sa_namespace = subject.get("namespace") or (
                namespace if kind == "RoleBinding" else None
            )
            sa_namespace = _text(
                places, (*where, "namespace"), sa_namespace, "a ServiceAccount's namespace"
            )
            account, account_type = (
                f"system:serviceaccount:{sa_namespace}:{name}",
                AccountType.SERVICE,
            )
        elif subject_kind == "User":
            account = name
            account_type = (
                AccountType.SERVICE if name.startswith("system:") else AccountType.EMPLOYEE
            )
        else:
            account = f"group:{name}"
            machines = name in _MACHINE_GROUPS or name.startswith("system:serviceaccounts:")
            account_type = AccountType.SERVICE if machines else AccountType.EMPLOYEE
        rows.append(
            Row(
                account,
                "",
                account_type,
                entitlement,
                Location(places.shown),
                path=where,
                places=places,
                group=subject_kind == "Group",
            )
        )
    return rows
