import logging

from localwork.infra.logs import open_data_dir


def test_tracebacks_go_to_the_log_file_only(tmp_path, capfd):
    paths = open_data_dir(str(tmp_path / "data"))
    try:
        raise RuntimeError("the engine said no")
    except RuntimeError:
        logging.getLogger("localwork.test").error("could not load the model", exc_info=True)
    for handler in logging.getLogger().handlers:
        handler.flush()
    shown = capfd.readouterr().err
    assert "could not load the model (details in the log)" in shown
    assert "Traceback" not in shown and "the engine said no" not in shown
    logged = paths.log_file.read_text()
    assert "Traceback" in logged and "RuntimeError: the engine said no" in logged
