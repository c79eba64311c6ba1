"""Headless Chromium, driven over the DevTools protocol, to look at a document as a phone
would: 390 px wide, a screenshot, the page's text, and which fonts drew the Chinese.

Chromium is Debian's `chromium` package (.ci/install-chromium.sh). Each page opens in a
fresh browser with its own profile, no network beyond what the page's URL points at, and
the flags that keep it from calling home. The font check asks the browser itself
(CSS.getPlatformFontsForNode): the fonts that actually drew each element's text, by family,
whether it came from the page (@font-face) and how many glyphs it drew, so a page whose
Chinese fell back to a system font, or to nothing, is caught.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

WIDTH, HEIGHT = 390, 844  # an iPhone 12-15 screen, in CSS pixels
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1")
START_TIMEOUT = 60.0
CJK = re.compile(r"[\u3400-\u9fff]")


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("chromium is not installed: run bash .ci/install-chromium.sh")


@dataclass
class FontUse:
    """The fonts that drew one element's own text."""

    text: str
    fonts: list[dict[str, Any]]

    @property
    def families(self) -> set[str]:
        return {str(f["familyName"]) for f in self.fonts}


@dataclass
class Rendered:
    url: str
    text: str  # document.body.innerText
    html: str  # the page's source as the browser received it
    screenshot: Path
    scroll_width: int
    viewport_width: int
    scripts: int  # <script> elements in the DOM
    chinese: list[FontUse] = field(default_factory=list)  # elements with Chinese text

    def fonts_for_chinese(self) -> set[str]:
        return set().union(*(u.families for u in self.chinese)) if self.chinese else set()

    def not_embedded(self) -> list[FontUse]:
        """Elements whose Chinese was drawn (in part) by a font the page did not bring."""
        return [u for u in self.chinese
                if any(not f.get("isCustomFont") for f in u.fonts)
                and _only_text_the_font_has(u.text)]


def _only_text_the_font_has(text: str) -> bool:
    """Text without emoji or symbols that no CJK text font has (📉 ⏸ draw from an emoji
    font, and rightly)."""
    return all(ord(c) < 0x2190 or 0x3000 <= ord(c) <= 0x9fff or 0xff00 <= ord(c) <= 0xffef
               or c in "“”‘’…—·" for c in text)


class DevTools:
    """One WebSocket to the browser; commands to a page go with its session id."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            data = json.loads(message.data)
            future = self.pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def send(self, method: str, session: str | None = None, **params: Any
                   ) -> dict[str, Any]:
        number = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[number] = future
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.socket.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    async def wait_event(self, method: str, session: str, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if any(e["method"] == method and e.get("sessionId") == session
                   for e in self.events):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {method} within {timeout} s")


@contextlib.asynccontextmanager
async def browser() -> AsyncIterator[DevTools]:
    """A fresh headless Chromium (own profile, deleted after), ended when the block ends."""
    profile = Path(tempfile.mkdtemp(prefix="repcoach-chromium-"))
    process = await asyncio.create_subprocess_exec(
        chromium_binary(), *FLAGS, f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if process.returncode is not None or loop.time() > deadline:
                raise AssertionError("chromium did not start")
            await asyncio.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"ws://127.0.0.1:{port}{path}", max_msg_size=0) as socket:
            tools = DevTools(socket)
            try:
                yield tools
            finally:
                tools.reader.cancel()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def _evaluate(tools: DevTools, session: str, expression: str) -> Any:
    result = await tools.send("Runtime.evaluate", session, expression=expression,
                              returnByValue=True, awaitPromise=True)
    return result["result"].get("value")


async def _chinese_fonts(tools: DevTools, session: str) -> list[FontUse]:
    await tools.send("DOM.enable", session)
    await tools.send("CSS.enable", session)
    root = (await tools.send("DOM.getDocument", session, depth=-1))["root"]
    uses: list[FontUse] = []

    async def walk(node: dict[str, Any]) -> None:
        children = node.get("children") or []
        own = "".join(c.get("nodeValue", "") for c in children if c.get("nodeType") == 3)
        if node.get("nodeType") == 1 and CJK.search(own):
            fonts = await tools.send("CSS.getPlatformFontsForNode", session,
                                     nodeId=node["nodeId"])
            uses.append(FontUse(own.strip(), list(fonts.get("fonts", []))))
        for child in children:
            await walk(child)

    await walk(root)
    return uses


async def render(url: str, screenshot: Path) -> Rendered:
    """Open `url` at phone width; the page's text, a full-page screenshot (written to
    `screenshot`), its width, its scripts and the fonts that drew its Chinese."""
    async with browser() as tools:
        target = (await tools.send("Target.createTarget", url="about:blank"))["targetId"]
        session = (await tools.send("Target.attachToTarget", targetId=target,
                                    flatten=True))["sessionId"]
        await tools.send("Page.enable", session)
        await tools.send("Emulation.setDeviceMetricsOverride", session, width=WIDTH,
                         height=HEIGHT, deviceScaleFactor=1, mobile=True)
        await tools.send("Page.navigate", session, url=url)
        await tools.wait_event("Page.loadEventFired", session)
        await _evaluate(tools, session, "document.fonts.ready.then(() => true)")
        text = await _evaluate(tools, session, "document.body.innerText")
        html = await _evaluate(tools, session, "document.documentElement.outerHTML")
        scroll_width = await _evaluate(tools, session,
                                       "document.documentElement.scrollWidth")
        viewport = await _evaluate(tools, session, "window.innerWidth")
        scripts = await _evaluate(tools, session, "document.querySelectorAll('script').length")
        height = await _evaluate(tools, session, "document.documentElement.scrollHeight")
        shot = await tools.send("Page.captureScreenshot", session, format="png",
                                captureBeyondViewport=True,
                                clip={"x": 0, "y": 0, "width": WIDTH,
                                      "height": max(int(height), HEIGHT), "scale": 1})
        import base64

        screenshot.write_bytes(base64.b64decode(shot["data"]))
        chinese = await _chinese_fonts(tools, session)
        return Rendered(url=url, text=str(text), html=str(html), screenshot=screenshot,
                        scroll_width=int(scroll_width), viewport_width=int(viewport),
                        scripts=int(scripts), chinese=chinese)
