// The region map drawn over a picture on one canvas, at the map's own size (CSS scales it to the
// column): the picture, then the map's colours at the chosen opacity, then the brush's outline or
// the keyboard's cross. The colours live in a second, off-screen canvas updated only where the map
// changed. The picture may come from another origin: the canvas is then never read back, which is
// why the map's values are kept apart (regionmap.js) and written out by pngmap.js.

/** "#rrggbb" as [r, g, b], or null. */
function rgb(hex) {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(String(hex));
  return match ? match.slice(1).map((part) => parseInt(part, 16)) : null;
}

/** Each style's colour: the map's own PLTE entry, else config.json's palette, else a grey. */
export function coloursOf(decoded, count, mapRules) {
  const configured = Array.isArray(mapRules.palette) ? mapRules.palette.map(rgb) : [];
  return Array.from({ length: Math.max(count, 1) }, (_, index) => {
    const own = decoded.palette && decoded.palette[index];
    return own || configured[index] || [128, 128, 128];
  });
}

/** A view of `map` ({width, height, data}) on `canvas`, coloured with `colours` ([[r, g, b], ...]). */
export function createView(canvas, map, colours) {
  const { width, height } = map;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const layer = document.createElement("canvas");
  layer.width = width;
  layer.height = height;
  const layerContext = layer.getContext("2d");
  const pixels = layerContext.createImageData(width, height);
  let background = null;
  let opacity = 0.55;
  let marker = null; // {x, y, radius} of the brush, or {x, y, cross: true}
  let frame = 0;

  function colourOf(value) {
    return colours[value] || [0, 0, 0];
  }

  function draw() {
    frame = 0;
    context.globalAlpha = 1;
    context.clearRect(0, 0, width, height);
    if (background) context.drawImage(background, 0, 0, width, height);
    context.globalAlpha = background ? opacity : 1;
    context.drawImage(layer, 0, 0);
    context.globalAlpha = 1;
    if (!marker) return;
    const scale = Math.max(width, height) / 600; // lines a few screen pixels wide at any map size
    context.lineWidth = Math.max(1, 2 * scale);
    for (const [colour, grow] of [["rgba(0,0,0,0.8)", 1], ["rgba(255,255,255,0.95)", 0]]) {
      context.strokeStyle = colour;
      context.beginPath();
      if (marker.cross) {
        const arm = 10 * scale + grow * scale;
        context.moveTo(marker.x - arm, marker.y);
        context.lineTo(marker.x + arm, marker.y);
        context.moveTo(marker.x, marker.y - arm);
        context.lineTo(marker.x, marker.y + arm);
      } else {
        context.arc(marker.x, marker.y, Math.max(1, marker.radius) + grow * scale, 0, 2 * Math.PI);
      }
      context.stroke();
    }
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  /** Recolours the rectangle `rect` of the map (all of it when omitted) and redraws. */
  function update(rect = { x: 0, y: 0, width, height }) {
    const rgba = pixels.data;
    for (let y = rect.y; y < rect.y + rect.height; y += 1) {
      for (let x = rect.x; x < rect.x + rect.width; x += 1) {
        const index = y * width + x;
        const [r, g, b] = colourOf(map.data[index]);
        rgba[index * 4] = r;
        rgba[index * 4 + 1] = g;
        rgba[index * 4 + 2] = b;
        rgba[index * 4 + 3] = 255;
      }
    }
    layerContext.putImageData(pixels, 0, 0, rect.x, rect.y, rect.width, rect.height);
    schedule();
  }

  update();
  return {
    update,
    /** The picture under the map (a loaded <img>), or null for the map alone. */
    setBackground(image) {
      background = image && image.naturalWidth > 0 ? image : null;
      schedule();
    },
    /** How opaque the map is over the picture, 0 to 1. */
    setOpacity(value) {
      opacity = value;
      schedule();
    },
    /** Shows the brush's outline or the keyboard's cross (map pixels), or nothing with null. */
    setMarker(value) {
      marker = value;
      schedule();
    },
    /** The map pixel under a pointer event (clamped to the map). */
    toMap(event) {
      const box = canvas.getBoundingClientRect();
      const x = ((event.clientX - box.left) / Math.max(1, box.width)) * width;
      const y = ((event.clientY - box.top) / Math.max(1, box.height)) * height;
      return { x: Math.min(width - 1, Math.max(0, Math.floor(x))), y: Math.min(height - 1, Math.max(0, Math.floor(y))) };
    },
    /** Stops drawing (the editor closed). */
    stop() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
    },
  };
}
