// The trace player of gilcheck's HTML report: position 0 is the initial state, position k
// the state after step k. Data comes from the JSON element #gilcheck-data; text is always
// set with textContent, never parsed as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("gilcheck-data").textContent);
  var steps = data.steps;
  if (!steps.length) {
    return;
  }
  var position = 0;
  var lines = {};
  document.querySelectorAll(".src-line").forEach(function (el) {
    lines[el.getAttribute("data-file") + ":" + el.getAttribute("data-line")] = el;
  });

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    if (cls) {
      node.className = cls;
    }
    return node;
  }

  function snapshotAt(pos) {
    return pos === 0 ? data.start : steps[pos - 1].after;
  }

  function fill(tableId, rows, previous) {
    var body = document.querySelector("#" + tableId + " tbody");
    body.textContent = "";
    rows.forEach(function (cells, i) {
      var tr = el("tr");
      if (previous && JSON.stringify(previous[i]) !== JSON.stringify(cells)) {
        tr.className = "changed";
      }
      cells.forEach(function (cell) {
        tr.appendChild(el("td", cell));
      });
      body.appendChild(tr);
    });
  }

  function holdingRows(snap) {
    return snap ? snap.holdings.map(function (h) { return [h[0], h[1]]; }) : [];
  }

  function bufferRows(snap) {
    return snap ? snap.buffers.map(function (b) {
      var text = b[2].length ? b[2].join(", ") : "(empty)";
      return [b[0], b[1], text + (b[3] ? " (closed)" : "")];
    }) : [];
  }

  function threadRows(snap) {
    return snap ? snap.threads.map(function (t) {
      return [t[0], t[1], t[3] ? t[2].split("/").pop() + ":" + t[3] : ""];
    }) : [];
  }

  function showStep(pos) {
    var box = document.getElementById("step");
    box.textContent = "";
    if (pos === 0) {
      box.appendChild(el("p", "The initial state: no step taken yet."));
      return;
    }
    var step = steps[pos - 1];
    var head = el("p");
    head.appendChild(el("strong", "Step " + step.label + " "));
    head.appendChild(document.createTextNode(step.thread + " at " + step.location.split("/").pop() + ": "));
    head.appendChild(el("code", step.statement));
    box.appendChild(head);
    var list = el("ul");
    step.effects.forEach(function (effect) {
      list.appendChild(el("li", effect));
    });
    box.appendChild(list);
  }

  // Each thread's marker, in the gutter of the line it runs next; the gutters that got one.
  function placeBadges(snap) {
    document.querySelectorAll(".badges").forEach(function (badges) {
      badges.textContent = "";
    });
    var filled = [];
    (snap ? snap.threads : []).forEach(function (t) {
      var line = lines[t[2] + ":" + t[3]];
      if (line && t[1] !== "ended") {
        var badge = el("span", t[0], "badge" + (t[1] === "blocked" ? " blocked" : ""));
        badge.title = t[0] + " " + t[1] + ": its next statement";
        var badges = line.querySelector(".badges");
        badges.appendChild(badge);
        filled.push(badges);
      }
    });
    return filled;
  }

  // The gutter is as wide as the widest set of markers any position shows, so that the
  // code does not move sideways as the player steps.
  function sizeGutter() {
    var widest = 0;
    for (var pos = 0; pos <= steps.length; pos++) {
      placeBadges(snapshotAt(pos)).forEach(function (badges) {
        var width = 0;
        badges.querySelectorAll(".badge").forEach(function (badge) {
          var style = window.getComputedStyle(badge);
          width += badge.getBoundingClientRect().width + parseFloat(style.marginLeft || "0");
        });
        widest = Math.max(widest, width);
      });
    }
    document.documentElement.style.setProperty("--gutter", Math.ceil(widest) + "px");
  }

  function highlight(pos, snap) {
    document.querySelectorAll(".src-line.current").forEach(function (line) {
      line.classList.remove("current");
    });
    placeBadges(snap);
    if (pos > 0) {
      var step = steps[pos - 1];
      var current = lines[step.file + ":" + step.line];
      if (current) {
        current.classList.add("current");
        current.scrollIntoView({ block: "nearest" });
      }
    }
  }

  function render() {
    var snap = snapshotAt(position);
    var previous = position > 0 ? snapshotAt(position - 1) : null;
    document.getElementById("position").textContent =
      position === 0 ? "start" : "step " + steps[position - 1].label + " (" + position + " of " + steps.length + ")";
    showStep(position);
    highlight(position, snap);
    fill("holdings", holdingRows(snap), previous && holdingRows(previous));
    fill("buffers", bufferRows(snap), previous && bufferRows(previous));
    fill("threads", threadRows(snap), previous && threadRows(previous));
    document.getElementById("first").disabled = position === 0;
    document.getElementById("back").disabled = position === 0;
    document.getElementById("forward").disabled = position === steps.length;
    document.getElementById("last").disabled = position === steps.length;
    document.querySelectorAll("#steps li").forEach(function (item, i) {
      item.classList.toggle("active", i === position);
    });
  }

  function go(pos) {
    position = Math.max(0, Math.min(steps.length, pos));
    render();
  }

  var list = document.getElementById("steps");
  list.appendChild(el("li", "start: the initial state"));
  steps.forEach(function (step, i) {
    var item = el("li", step.label + "  " + step.thread + "  " + step.statement);
    if (data.loopFrom !== null && i === data.loopFrom) {
      item.className = "loop";
      item.title = "from here the program can repeat these steps for ever";
    }
    list.appendChild(item);
  });
  list.querySelectorAll("li").forEach(function (item, i) {
    item.addEventListener("click", function () { go(i); });
  });
  document.getElementById("first").addEventListener("click", function () { go(0); });
  document.getElementById("back").addEventListener("click", function () { go(position - 1); });
  document.getElementById("forward").addEventListener("click", function () { go(position + 1); });
  document.getElementById("last").addEventListener("click", function () { go(steps.length); });
  document.addEventListener("keydown", function (event) {
    var moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (event.key in moves) {
      go(position + moves[event.key]);
    } else if (event.key === "Home") {
      go(0);
    } else if (event.key === "End") {
      go(steps.length);
    } else {
      return;
    }
    event.preventDefault();
  });
  sizeGutter();
  render();
})();
