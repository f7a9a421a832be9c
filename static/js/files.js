// The file browser's uploads: files chosen, a folder chosen, or either dropped on the
// page, sent in one request with a progress bar. Each file goes with its path below the
// current folder (a folder keeps its sub-folders). The answer is the folder's new listing.
(() => {
  "use strict";

  // A dropped folder is walked entry by entry (the browser gives no flat list).
  async function walk(entry, prefix, found) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      found.push([file, prefix + file.name]);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`, found);
      }
    }
  }

  async function dropped(dataTransfer) {
    const found = [];
    const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
    if (!entries.length) return [...dataTransfer.files].map((file) => [file, file.name]);
    for (const entry of entries) await walk(entry, "", found);
    return found;
  }

  function attach(form) {
    const zone = form.querySelector("[data-drop-zone]");
    const progress = form.querySelector("[data-upload-progress]");
    const status = form.querySelector("[data-upload-status]");

    function upload(pairs) {
      if (!pairs.length) return;
      const listing = document.getElementById("file-listing");
      const body = new FormData();
      body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      body.append("container", form.querySelector("[name=container]").value);
      body.append("path", listing?.dataset.path || form.querySelector("[data-upload-folder]").value);
      for (const [file, path] of pairs) {
        body.append("files", file, file.name);
        body.append("paths", path);
      }
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      progress.hidden = false;
      progress.value = 0;
      status.textContent = `Uploading ${pairs.length} file${pairs.length === 1 ? "" : "s"}…`;
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total;
      });
      request.addEventListener("load", () => {
        progress.hidden = true;
        if (request.status === 200) {
          status.textContent = "";
          const holder = document.createElement("div");
          holder.innerHTML = request.responseText;
          const fresh = holder.firstElementChild;
          document.getElementById("file-listing").replaceWith(fresh);
          window.htmx?.process(fresh);
        } else {
          status.textContent = request.responseText || `The upload failed (${request.status}).`;
        }
      });
      request.addEventListener("error", () => {
        progress.hidden = true;
        status.textContent = "The upload failed: the connection was lost.";
      });
      request.send(body);
    }

    form.querySelector("[data-testid=upload-files]").addEventListener("change", (event) => {
      upload([...event.target.files].map((file) => [file, file.name]));
      event.target.value = "";
    });
    form.querySelector("[data-folder-input]").addEventListener("change", (event) => {
      upload([...event.target.files].map((file) => [file, file.webkitRelativePath || file.name]));
      event.target.value = "";
    });
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (event) => {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", async (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      upload(await dropped(event.dataTransfer));
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-testid=upload-form]").forEach(attach);
  });
})();
