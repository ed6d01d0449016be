// Camera scanning: the rear camera through getUserMedia, frames decoded by jsQR.

import jsQR from "jsqr";

export class Scanner {
  constructor(video, onText) {
    this.video = video;
    this.onText = onText;
    this.canvas = document.createElement("canvas");
    this.ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    this.stream = null;
    this.timer = null;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: false,
    });
    this.video.srcObject = this.stream;
    this.video.setAttribute("playsinline", "");
    await this.video.play();
    this.timer = setInterval(() => this.tick(), 120);
  }

  tick() {
    const v = this.video;
    if (!v.videoWidth) return;
    // Decode a centred square, at most 720 px: enough for a version-10 code, quick on a phone.
    const side = Math.min(v.videoWidth, v.videoHeight);
    const size = Math.min(side, 720);
    this.canvas.width = size;
    this.canvas.height = size;
    this.ctx.drawImage(v, (v.videoWidth - side) / 2, (v.videoHeight - side) / 2, side, side, 0, 0, size, size);
    const img = this.ctx.getImageData(0, 0, size, size);
    const code = jsQR(img.data, size, size, { inversionAttempts: "attemptBoth" });
    if (code && code.data) {
      this.stop();
      this.onText(code.data);
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.video.srcObject = null;
  }
}
