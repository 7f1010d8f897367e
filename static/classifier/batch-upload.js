// Batch upload: pick several files or drop any onto the card; each is sent on its own
// request (the same validation and storage as a single upload), with its own progress
// bar and result. Without this script the form still works: it posts every picked file
// at once and lists what happened to each.
(function () {
  "use strict";

  const form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  const input = form.querySelector('input[type="file"][name="image"]');
  const caption = form.querySelector('[name="caption"]');
  const zone = document.getElementById("drop-zone");
  const list = document.getElementById("upload-results");
  const csrf = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
  const queue = [];
  let busy = false;

  function row(file) {
    const item = document.createElement("li");
    item.className = "upload-item";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const result = document.createElement("span");
    result.className = "upload-result";
    result.setAttribute("role", "status");
    result.textContent = "waiting";
    item.append(name, bar, result);
    list.append(item);
    list.hidden = false;
    return { item: item, bar: bar, result: result };
  }

  function show(entry, ok, text, href) {
    entry.item.classList.add(ok ? "upload-ok" : "upload-error");
    entry.result.textContent = "";
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      entry.result.append(link);
    } else {
      entry.result.textContent = text;
    }
  }

  function send(file, entry) {
    return new Promise(function (resolve) {
      const body = new FormData();
      body.append("csrfmiddlewaretoken", csrf);
      body.append("caption", caption ? caption.value : "");
      body.append("image", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          entry.bar.value = Math.round((100 * event.loaded) / event.total);
        }
      });
      xhr.addEventListener("load", function () {
        entry.bar.value = 100;
        let answer = {};
        try {
          answer = JSON.parse(xhr.responseText);
        } catch (error) {
          answer = { error: "The server answered " + xhr.status + "." };
        }
        if (xhr.status === 200 || xhr.status === 201) {
          const what = answer.created ? "stored" : "uploaded before";
          show(entry, true, what + ": meme " + answer.id, answer.url);
        } else {
          show(entry, false, answer.error || "refused (" + xhr.status + ")");
        }
        resolve();
      });
      xhr.addEventListener("error", function () {
        show(entry, false, "the upload failed (network error)");
        resolve();
      });
      entry.result.textContent = "uploading";
      xhr.send(body);
    });
  }

  async function drain() {
    if (busy) {
      return;
    }
    busy = true;
    while (queue.length) {
      const next = queue.shift();
      await send(next.file, next.entry);
    }
    busy = false;
  }

  function add(files) {
    Array.from(files).forEach(function (file) {
      queue.push({ file: file, entry: row(file) });
    });
    drain();
  }

  // One picked file goes the usual way (the form posts it and opens its meme page);
  // several, or anything dropped, go one request per file, shown in the list.
  function takeOver() {
    if (input.files.length > 1) {
      add(input.files);
      input.value = "";
      return true;
    }
    return false;
  }
  form.addEventListener("submit", function (event) {
    if (takeOver()) {
      event.preventDefault();
    }
  });
  input.addEventListener("change", takeOver);
  if (zone) {
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        add(event.dataTransfer.files);
      }
    });
  }
})();
