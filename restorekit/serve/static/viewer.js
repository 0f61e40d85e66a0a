"use strict";
// Before / after comparison at full resolution. The two images lie on one "canvas" element,
// moved and scaled by a CSS transform (translate, then scale: screen = t + z * image); the
// "after" image is clipped left of the divider, whose place is a fraction of the stage's
// width, so that the divider stays put while the image zooms and pans under it.

class CompareView {
  constructor(ids) {
    const $ = (id) => document.getElementById(id);
    this.stage = $(ids.stage);
    this.canvas = $(ids.canvas);
    this.before = $(ids.before);
    this.after = $(ids.after);
    this.divider = $(ids.divider);
    this.range = $(ids.range);
    this.zoomLabel = $(ids.zoomLabel);
    this.extras = ids.extras.map($);
    this.split = 0.5;
    this.z = 1;
    this.tx = 0;
    this.ty = 0;
    this.w = 0;
    this.h = 0;
    this.fitted = true;
    this.drag = null;
    this.bind();
  }

  bind() {
    this.range.addEventListener("input", () => this.setSplit(this.range.value / 1000));
    this.stage.addEventListener("wheel", (e) => {
      if (!this.w) return;
      e.preventDefault();
      const r = this.stage.getBoundingClientRect();
      this.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    this.stage.addEventListener("pointerdown", (e) => {
      if (!this.w || e.button !== 0) return;
      const onDivider = e.target.closest(".divider") !== null;
      this.drag = { mode: onDivider ? "split" : "pan", x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty };
      this.stage.setPointerCapture(e.pointerId);
      this.stage.classList.toggle("panning", !onDivider);
      if (onDivider) this.splitTo(e.clientX);
    });
    this.stage.addEventListener("pointermove", (e) => {
      if (!this.drag) return;
      if (this.drag.mode === "split") {
        this.splitTo(e.clientX);
      } else {
        this.tx = this.drag.tx + e.clientX - this.drag.x;
        this.ty = this.drag.ty + e.clientY - this.drag.y;
        this.fitted = false;
        this.render();
      }
    });
    const end = () => {
      this.drag = null;
      this.stage.classList.remove("panning");
    };
    this.stage.addEventListener("pointerup", end);
    this.stage.addEventListener("pointercancel", end);
    this.stage.addEventListener("dblclick", (e) => {
      if (!this.w) return;
      const r = this.stage.getBoundingClientRect();
      if (Math.abs(this.z - 1) < 1e-3) this.fit();
      else this.zoomAt(1 / this.z, e.clientX - r.left, e.clientY - r.top);
    });
    new ResizeObserver(() => (this.fitted ? this.fit() : this.render())).observe(this.stage);
  }

  // Show two images (URLs of the same size); resolves once both have loaded.
  async show(beforeUrl, afterUrl) {
    const load = (img, url) => new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error("the image could not be shown"));
      img.src = url;
    });
    await Promise.all([load(this.before, beforeUrl), load(this.after, afterUrl)]);
    this.w = this.before.naturalWidth;
    this.h = this.before.naturalHeight;
    for (const img of [this.before, this.after]) {
      img.style.width = `${this.w}px`;
      img.style.height = `${this.h}px`;
    }
    this.canvas.style.width = `${this.w}px`;
    this.canvas.style.height = `${this.h}px`;
    for (const el of [this.canvas, this.divider, ...this.extras]) el.hidden = false;
    this.fit();
  }

  clear() {
    this.w = this.h = 0;
    for (const el of [this.canvas, this.divider, ...this.extras]) el.hidden = true;
    this.before.removeAttribute("src");
    this.after.removeAttribute("src");
  }

  fit() {
    if (!this.w) return;
    const r = this.stage.getBoundingClientRect();
    this.z = Math.min(r.width / this.w, r.height / this.h, 8);
    this.tx = (r.width - this.w * this.z) / 2;
    this.ty = (r.height - this.h * this.z) / 2;
    this.fitted = true;
    this.render();
  }

  // Zoom by `factor` keeping the image point under stage point (cx, cy) in place.
  zoomAt(factor, cx, cy) {
    if (!this.w) return;
    const r = this.stage.getBoundingClientRect();
    if (cx === undefined) [cx, cy] = [r.width / 2, r.height / 2];
    const minZ = Math.min(r.width / this.w, r.height / this.h, 1) / 2;
    const z = Math.min(Math.max(this.z * factor, minZ), 32);
    this.tx = cx - ((cx - this.tx) * z) / this.z;
    this.ty = cy - ((cy - this.ty) * z) / this.z;
    this.z = z;
    this.fitted = false;
    this.render();
  }

  setSplit(fraction) {
    this.split = Math.min(Math.max(fraction, 0), 1);
    this.range.value = Math.round(this.split * 1000);
    this.render();
  }

  splitTo(clientX) {
    const r = this.stage.getBoundingClientRect();
    this.setSplit((clientX - r.left) / r.width);
  }

  // Keep some of the image in view: a wide image may pan edge to edge, a small one stays inside.
  clamp(t, size, view) {
    return size <= view ? Math.min(Math.max(t, 0), view - size) : Math.min(Math.max(t, view - size), 0);
  }

  render() {
    if (!this.w) return;
    const r = this.stage.getBoundingClientRect();
    this.tx = this.clamp(this.tx, this.w * this.z, r.width);
    this.ty = this.clamp(this.ty, this.h * this.z, r.height);
    this.canvas.style.transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.z})`;
    const x = r.width * this.split; // the divider, in stage pixels
    const cut = Math.min(Math.max((x - this.tx) / this.z, 0), this.w); // ... in image pixels
    this.after.style.clipPath = `inset(0 0 0 ${cut}px)`;
    this.divider.style.left = `${x}px`;
    this.canvas.classList.toggle("pixelated", this.z >= 2);
    this.zoomLabel.textContent = `${Math.round(this.z * 100)}%`;
  }
}

window.CompareView = CompareView;
