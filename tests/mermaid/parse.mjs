// Reads Mermaid text on stdin; prints mermaid.parse()'s result as JSON, or exits 1 with the parse error.
import { JSDOM } from "jsdom";

const { window } = new JSDOM("");
// mermaid sanitizes labels with DOMPurify, which needs these browser globals.
for (const name of ["window", "document", "Element", "HTMLElement", "Node", "DocumentFragment", "DOMParser",
                    "NodeFilter", "NamedNodeMap", "HTMLTemplateElement", "Text", "Comment"]) {
  globalThis[name] = name === "window" ? window : window[name];
}
const mermaid = (await import("mermaid")).default;

let text = "";
for await (const chunk of process.stdin) text += chunk;
try {
  console.log(JSON.stringify(await mermaid.parse(text)));
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
