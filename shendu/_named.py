"""One closed table of built-in classes per area (regularizers, constraints): resolving a name,
a config dict or an instance, and turning an instance back into a config a file can hold.

Only classes in the table can be named by a string or a file; nothing is ever imported by a
name read from a file.
"""

from __future__ import annotations


class NamedClasses:
    """The classes of one area, by class name and by Keras's lower-case aliases.

    Args:
        kind: the area's noun for messages ("regularizer").
        base: the base class of its objects.
        classes: class name -> class, the only names a file may use.
        aliases: other accepted spellings ("l2", "max_norm").
        example: how to make one, for the error message ("'l2', a Regularizer (e.g. L2(1e-4))").
    """

    def __init__(self, kind: str, base: type, classes: dict, aliases: dict, example: str):
        self.kind, self.base, self.classes, self.aliases = kind, base, classes, aliases
        self.example = example

    def serialize(self, obj) -> dict | None:
        """``{"class_name": ..., "config": {...}}`` for a built-in object (None for None).

        Raises:
            TypeError: for a custom function or class, which a model file cannot name.
        """
        if obj is None:
            return None
        cls = type(obj)
        if self.classes.get(cls.__name__) is not cls:
            raise TypeError(f"{self.kind} {obj!r} is not one of shendu's built-in "
                            f"{self.kind}s ({sorted(self.classes)}), so it cannot be saved in a "
                            "model file; save the weights (model.state_dict()) and rebuild the "
                            "model in code")
        return {"class_name": cls.__name__, "config": obj.get_config()}

    def deserialize(self, config: dict):
        """Rebuild an object from ``serialize``'s dict; only the table's classes are looked
        up (Keras's extra "module"/"registered_name" keys are ignored)."""
        if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
            raise ValueError(f"a {self.kind} config must be a dict with 'class_name' and "
                             f"'config', got {config!r}")
        name = config["class_name"]
        cls = self.classes.get(name) or self.aliases.get(name)
        if cls is None:
            raise ValueError(f"unknown {self.kind} {name!r}; expected one of "
                             f"{sorted(self.classes)}")
        cfg = config.get("config") or {}
        if not isinstance(cfg, dict):
            raise ValueError(f"{self.kind} {name!r}: 'config' must be a dict, got {cfg!r}")
        try:
            return cls.from_config(cfg)
        except TypeError as e:
            raise ValueError(f"{self.kind} {name!r}: bad config {cfg!r}: {e}") from None

    def get(self, identifier):
        """None, a name (default arguments), a config dict, an instance or any callable."""
        if identifier is None or isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, str):
            cls = self.aliases.get(identifier) or self.classes.get(identifier) or \
                self.aliases.get(identifier.lower())
            if cls is None:
                raise ValueError(f"unknown {self.kind} {identifier!r}; expected one of "
                                 f"{sorted(self.aliases)} or {sorted(self.classes)}")
            return cls()
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if callable(identifier):
            return identifier
        raise TypeError(f"could not interpret {identifier!r} as a {self.kind}; give a name "
                        f"such as {self.example}, a config dict or a callable")
