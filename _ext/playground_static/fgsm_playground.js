/* The book's live FGSM figures (see _ext/fgsm_playground.py and the README's
 * "Try it on the page"): chapter 3's baseline, chapter 6's distilled student at T = 1.
 *
 * Runs a shipped model, the Table-1 CNN, in the reader's browser with TensorFlow.js ops
 * on the CPU backend (deterministic float32, like Keras on a CPU), with its softmax at
 * the figure's temperature (data-temperature; default the model's own), and attacks it
 * with FGSM exactly as advlib.attacks.fgsm does: the loss is the categorical
 * cross-entropy of the *softmax output* with the probabilities clipped to
 * [1e-7, 1 - 1e-7], so a saturated softmax gives a zero gradient and leaves the image
 * unchanged. With data-attack-temperature a second switch takes FGSM's gradient at that
 * temperature instead (advlib.attacks.fgsm(..., temperature=T)), while the prediction
 * stays the figure's. Dropout is inactive at inference and omitted. The weights and
 * images are written into the built site by tools/playground_export.py.
 *
 * Without JavaScript (or before the model has loaded) the figure shows its static
 * fallback image and text; the live controls are `hidden` until everything is ready.
 * window.advlibPlayground exposes the computations to tests/book/test_playground.py.
 */
(function () {
  "use strict";

  var PROBABILITY_EPSILON = 1e-7;  // Keras's clip before the log (advlib.attacks)
  var BLOCKS = [1, 2, 3];

  function fetchOk(url, kind) {
    return fetch(url).then(function (response) {
      if (!response.ok) throw new Error("could not load " + url + " (HTTP " + response.status + ")");
      return kind === "json" ? response.json() : response.arrayBuffer();
    });
  }

  function loadWeights(base) {
    return Promise.all([fetchOk(base + "weights.json", "json"), fetchOk(base + "weights.bin", "bin")])
      .then(function (parts) {
        var manifest = parts[0], buffer = parts[1], weights = {};
        manifest.weights.forEach(function (entry) {
          var count = entry.shape.reduce(function (a, b) { return a * b; }, 1);
          var values = new Float32Array(buffer, entry.offset, count);
          weights[entry.name] = tf.keep(tf.tensor(values, entry.shape, "float32"));
        });
        return { manifest: manifest, weights: weights };
      });
  }

  function loadImages(base) {
    return Promise.all([fetchOk(base + "images.json", "json"), fetchOk(base + "images.bin", "bin")])
      .then(function (parts) { return { meta: parts[0], pixels: new Uint8Array(parts[1]) }; });
  }

  // The network up to its logits: three blocks of (conv, ReLU, batch norm) x 2, max pool;
  // then flatten and dense. Both layouts are NHWC, so flatten matches Keras's order.
  function logits(model, x) {
    var w = model.weights, epsilon = model.manifest.batch_norm_epsilon, h = x;
    BLOCKS.forEach(function (block) {
      [1, 2].forEach(function (position) {
        var conv = "conv" + block + "_" + position, bn = "batch_norm" + block + "_" + position;
        h = tf.relu(tf.add(tf.conv2d(h, w[conv + "/kernel"], 1, "same"), w[conv + "/bias"]));
        // Keras's inference batch norm: (h - mean) / sqrt(var + eps) * gamma + beta.
        h = tf.add(tf.mul(tf.div(tf.sub(h, w[bn + "/moving_mean"]),
                                 tf.sqrt(tf.add(w[bn + "/moving_variance"], epsilon))),
                          w[bn + "/gamma"]), w[bn + "/beta"]);
      });
      h = tf.maxPool(h, 2, 2, "valid");
    });
    h = tf.reshape(h, [h.shape[0], -1]);
    return tf.add(tf.matMul(h, w["logits/kernel"]), w["logits/bias"]);
  }

  function probabilities(model, x, temperature) {
    return tf.softmax(tf.div(logits(model, x), temperature));
  }

  // advlib.attacks.probability_cross_entropy, summed over the batch.
  function loss(model, x, yOneHot, temperature) {
    var clipped = tf.clipByValue(probabilities(model, x, temperature), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    return tf.neg(tf.sum(tf.mul(yOneHot, tf.log(clipped))));
  }

  function imageTensor(images, index) {
    var size = 32 * 32 * 3, bytes = images.pixels.subarray(index * size, (index + 1) * size);
    return tf.div(tf.tensor(Float32Array.from(bytes), [1, 32, 32, 3], "float32"), 255);
  }

  // A fixed random sign per pixel and image (a small LCG), so moving eps scales one noise.
  function randomSigns(index) {
    var signs = new Float32Array(32 * 32 * 3), state = (index + 1) * 2654435761 >>> 0;
    for (var i = 0; i < signs.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      signs[i] = state & 0x80000000 ? 1 : -1;
    }
    return tf.tensor(signs, [1, 32, 32, 3], "float32");
  }

  // temperature: the softmax temperature the figure reads the model at.
  function Playground(model, images, temperature) {
    this.model = model;
    this.images = images;
    this.temperature = temperature;
    this.directions = {};  // "index mode temperature" -> sign tensor (kept)
  }

  // The sign tensor for an image: FGSM's, its gradient taken at gradientTemperature, or
  // the random signs ("noise").
  Playground.prototype.direction = function (index, mode, gradientTemperature) {
    var self = this, key = index + " " + mode + (mode === "fgsm" ? " " + gradientTemperature : "");
    if (!this.directions[key]) {
      var label = this.images.meta.images[index].label;
      this.directions[key] = tf.tidy(function () {
        if (mode === "noise") return tf.keep(randomSigns(index));
        var x = imageTensor(self.images, index);
        var y = tf.cast(tf.oneHot(tf.tensor1d([label], "int32"), 10), "float32");
        var gradient = tf.grad(function (input) { return loss(self.model, input, y, gradientTemperature); })(x);
        return tf.keep(tf.sign(gradient));
      });
    }
    return this.directions[key];
  };

  // x_adv = clip(x + eps * direction, 0, 1): FGSM (Eq. 3.1) or random sign (Eq. 3.2).
  Playground.prototype.perturbed = function (index, eps, mode, gradientTemperature) {
    var self = this;
    return tf.tidy(function () {
      var x = imageTensor(self.images, index);
      return tf.clipByValue(tf.add(x, tf.mul(self.direction(index, mode, gradientTemperature), eps)), 0, 1);
    });
  };

  // gradientTemperature: where FGSM takes its gradient (default the figure's temperature);
  // the probabilities are always the figure's.
  Playground.prototype.compute = function (index, eps, mode, gradientTemperature) {
    var self = this;
    var adversarial = this.perturbed(index, eps, mode, gradientTemperature || this.temperature);
    var probs = tf.tidy(function () { return probabilities(self.model, adversarial, self.temperature); });
    var result = { adversarial: adversarial.dataSync(), probabilities: Array.from(probs.dataSync()) };
    var clean = imageTensor(this.images, index);
    result.clean = clean.dataSync();
    tf.dispose([adversarial, probs, clean]);
    return result;
  };

  // ---- drawing ----------------------------------------------------------------------

  function draw(canvas, values, transform) {
    var context = canvas.getContext("2d"), data = context.createImageData(32, 32);
    for (var p = 0; p < 32 * 32; p++) {
      for (var c = 0; c < 3; c++) data.data[4 * p + c] = Math.round(255 * transform(values[3 * p + c], p * 3 + c));
      data.data[4 * p + 3] = 255;
    }
    context.putImageData(data, 0, 0);
  }

  function build(figure, playground) {
    var live = figure.querySelector(".advlib-playground-live");
    var select = live.querySelector("select");
    var slider = live.querySelector("input[type=range]");
    var toggle = live.querySelector(".advlib-playground-noise");
    var attackToggle = live.querySelector(".advlib-playground-attack");  // absent without data-attack-temperature
    var attackTemperature = Number(figure.getAttribute("data-attack-temperature"));
    var modelName = figure.getAttribute("data-model-name");
    var epsText = live.querySelector(".advlib-playground-eps");
    var canvases = live.querySelectorAll("canvas");
    var bars = live.querySelector(".advlib-playground-bars");
    var status = live.querySelector(".advlib-playground-status");
    var classes = playground.images.meta.classes;

    playground.images.meta.images.forEach(function (image, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = image["class"] + " (test image " + image.test_index + ")";
      select.appendChild(option);
    });
    var rows = classes.map(function (name) {
      var row = document.createElement("div"), label = document.createElement("span");
      var meter = document.createElement("meter"), value = document.createElement("span");
      row.className = "advlib-playground-row";
      label.textContent = name;
      meter.min = 0; meter.max = 1;
      meter.setAttribute("aria-label", "probability of " + name);
      row.append(label, meter, value);
      bars.appendChild(row);
      return { row: row, meter: meter, value: value };
    });

    select.value = figure.getAttribute("data-image") || "0";

    function update() {
      var index = Number(select.value), eps = Number(slider.value);
      var mode = toggle.checked ? "noise" : "fgsm";
      // Random signs have no gradient: the temperature switch means nothing for them.
      if (attackToggle) attackToggle.disabled = mode === "noise";
      var gradientTemperature = attackToggle && attackToggle.checked ? attackTemperature : playground.temperature;
      var image = playground.images.meta.images[index];
      var result = playground.compute(index, eps, mode, gradientTemperature);
      epsText.textContent = eps.toFixed(3);
      slider.setAttribute("aria-valuetext", "eps " + eps.toFixed(3));
      draw(canvases[0], result.clean, function (v) { return v; });
      // The perturbation, stretched from [-eps, eps] to [0, 1] so that it is visible.
      draw(canvases[1], result.adversarial, function (v, k) {
        return eps > 0 ? 0.5 + (v - result.clean[k]) / (2 * eps) : 0.5;
      });
      draw(canvases[2], result.adversarial, function (v) { return v; });
      var changed = 0;
      for (var k = 0; k < result.clean.length; k++) if (result.adversarial[k] !== result.clean[k]) changed++;
      var top = 0;
      result.probabilities.forEach(function (p, k) {
        rows[k].meter.value = p;
        rows[k].value.textContent = p.toFixed(3);
        rows[k].row.classList.toggle("advlib-playground-true", k === image.label);
        if (p > result.probabilities[top]) top = k;
      });
      rows.forEach(function (r, k) { r.row.classList.toggle("advlib-playground-top", k === top); });
      var attack = mode === "noise" ? "Random-sign noise"
        : "FGSM" + (attackToggle ? " (gradient at T = " + gradientTemperature + ")" : "");
      status.textContent = attack + " at eps " + eps.toFixed(3) + " changed " + changed.toLocaleString("en") + " of the " +
        result.clean.length.toLocaleString("en") + " pixel values: " + modelName + " predicts " + classes[top] + " (" +
        result.probabilities[top].toFixed(2) + "); the true class is " + image["class"] + ".";
      figure.dataset.state = JSON.stringify({ index: index, eps: eps, mode: mode, top: top, changed: changed,
                                              gradientTemperature: gradientTemperature,
                                              probabilities: result.probabilities });
    }

    [select, slider, toggle, attackToggle].forEach(function (control) {
      if (control) control.addEventListener("input", update);
    });
    [toggle, attackToggle].forEach(function (control) { if (control) control.addEventListener("change", update); });
    update();
    live.hidden = false;
    figure.classList.add("advlib-playground-ready");
  }

  function start(figure) {
    var base = figure.getAttribute("data-playground");
    var model = figure.getAttribute("data-model") || "baseline";
    // The CPU backend: float32 like Keras on a CPU, and no GPU needed (WebGL's float16
    // textures on some devices would not give Keras's numbers).
    tf.setBackend("cpu");
    return Promise.all([tf.ready(), loadWeights(base + model + "/"), loadImages(base)]).then(function (parts) {
      var own = parts[1].manifest.temperature, chosen = figure.getAttribute("data-temperature");
      var playground = new Playground(parts[1], parts[2], chosen === null ? own : Number(chosen));
      build(figure, playground);
      // Milliseconds from the start of navigation to the first prediction on the page.
      playground.firstPredictionMs = performance.now();
      return playground;
    });
  }

  function main() {
    var figure = document.querySelector(".advlib-playground");
    if (!figure) return;
    var api = window.advlibPlayground = {};
    api.ready = (typeof tf === "undefined"
      ? Promise.reject(new Error("TensorFlow.js did not load"))
      : start(figure)).then(function (playground) {
        api.playground = playground;
        // For tests/book/test_playground.py: the page's own numbers, as plain arrays.
        // gradientTemperature (optional): FGSM's gradient at another temperature, as the switch.
        api.probabilities = function (index) { return playground.compute(index, 0, "fgsm").probabilities; };
        api.adversarial = function (index, eps, gradientTemperature) {
          return Array.from(playground.compute(index, eps, "fgsm", gradientTemperature).adversarial);
        };
        api.images = playground.images.meta;
        api.firstPredictionMs = playground.firstPredictionMs;
        return playground;
      });
    api.ready.catch(function (error) {
      var status = figure.querySelector(".advlib-playground-error");
      status.textContent = "The live figure could not start (" + error.message + "); the static figure above shows the same attack.";
      status.hidden = false;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
