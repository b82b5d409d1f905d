"""What the bundle keeps of Qt: only what the window needs, found from the libraries' NEEDED.

The window is QtWebEngineWidgets in a QtWidgets window. Its link closure (readelf -d) is the
Qt libraries in _QT_LIBS; everything else PySide6's hooks sweep in (QML, Quick controls,
Wayland, 3D, charts, the GTK theme plugin and the GTK stack it drags in, translations,
devtools) is dropped. The real-window self-test of the built bundle proves nothing needed
was removed.
"""

from __future__ import annotations

import re

_QT_LIBS = {
    "Core",
    "Gui",
    "Widgets",
    "Network",
    "DBus",
    "XcbQpa",
    "OpenGL",
    "PrintSupport",
    "WebChannel",
    "Positioning",
    "WebEngineCore",
    "WebEngineWidgets",
    "Quick",
    "QuickWidgets",
    "Qml",
    "QmlMeta",
    "QmlModels",
    "QmlWorkerScript",
}
_PYSIDE_MODULES = {
    "QtCore",
    "QtGui",
    "QtWidgets",
    "QtNetwork",
    "QtWebChannel",
    "QtPositioning",
    "QtPrintSupport",
    "QtWebEngineCore",
    "QtWebEngineWidgets",
}
_QT_PLUGINS = re.compile(
    r"plugins[/\\](platforms[/\\]libq(xcb|offscreen)\.so|xcbglintegrations[/\\]"
    r"|platforminputcontexts[/\\]|imageformats[/\\]libq(gif|ico|jpeg)\.so)"
)
# Pulled in only by the GTK platform-theme plugin, which is not kept.
_GTK_STACK = re.compile(
    r"lib(gtk-3|gdk-3|gdk_pixbuf-2\.0|cairo(-gobject)?|pango(cairo|ft2)?-1\.0|atk(-bridge)?"
    r"-[12]\.0|atspi|epoxy|wayland-(client|cursor|egl)|Xcursor|Xinerama|Xi|cloudproviders)"
    r"\.so"
)
_DROPPED_DATA = re.compile(
    r"Qt[/\\]qml[/\\]|qtwebengine_devtools_resources"
    r"|Qt[/\\]translations[/\\](?!qtwebengine_locales[/\\]en-US\.pak$)"
)


def keep_binary(name: str) -> bool:
    if re.search(r"Qt[/\\]qml[/\\]", name):  # QML plugins: the window uses no QML
        return False
    if qt_lib := re.search(r"libQt6(\w+)\.so", name):
        return qt_lib.group(1) in _QT_LIBS
    if pyside := re.search(r"PySide6[/\\](Qt\w+)\.(abi3|cpython)", name):
        return pyside.group(1) in _PYSIDE_MODULES
    if re.search(r"PySide6[/\\]Qt[/\\]plugins[/\\]", name):
        return bool(_QT_PLUGINS.search(name))
    return not _GTK_STACK.search(name)


def keep_data(name: str) -> bool:
    if _DROPPED_DATA.search(name):
        return False
    if re.search(r"PySide6[/\\]Qt[/\\]plugins[/\\]", name):
        return bool(_QT_PLUGINS.search(name))
    return True
