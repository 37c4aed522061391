"""Progress bars for long work (tqdm, which draws a widget in a notebook and a text bar in a terminal)."""


def progress_bar(iterable, enabled: bool, **kwargs):
    """`iterable` wrapped in a tqdm bar, or as it is when `enabled` is False (tests, quiet runs, ranks > 0)."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
