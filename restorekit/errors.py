"""The one exception family that the CLI turns into a one-line message and a non-zero exit."""


class RestorekitError(Exception):
    """A known failure caused by the user's input (bad file, bad spec, bad option)."""


class ImageReadError(RestorekitError):
    """An image file is missing, unreadable, truncated or of an unsupported kind."""


class SpecError(RestorekitError):
    """A degradation spec such as ``gaussian:25`` could not be parsed."""


class ModelLoadError(RestorekitError):
    """A model name or checkpoint could not be resolved or loaded."""


class DataLossWarning(UserWarning):
    """A file was written, but its format could not hold everything the input had.

    Raised through :func:`warnings.warn` (never as an exception) when, for example, an RGBA
    image goes to JPEG (no alpha), 16-bit samples go to an 8-bit format, or float samples go
    to an integer format. The message is one line naming the file.
    """
