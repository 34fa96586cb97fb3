// Second opinion on a reply calendar: Mozilla's ical.js (Thunderbird's parser) reads the same text.
// stdin: JSON list of calendar texts. stdout: JSON list (one per text) of VEVENT summaries, or
// {"error": "..."} for a text ical.js refuses.
const ICAL = require("ical.js");

function address(value) {
  return String(value || "").replace(/^\s*mailto:/i, "").trim().toLowerCase();
}

function readOne(text) {
  let root;
  try {
    root = new ICAL.Component(ICAL.parse(text));
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
  const calendars = root.name === "vcalendar" ? [root] : root.getAllSubcomponents("vcalendar");
  const events = [];
  for (const calendar of calendars) {
    const method = String(calendar.getFirstPropertyValue("method") || "").toUpperCase();
    const prodid = String(calendar.getFirstPropertyValue("prodid") || "");
    for (const vevent of calendar.getAllSubcomponents("vevent")) {
      const dtstamp = vevent.getFirstPropertyValue("dtstamp");
      // ICAL.Event resolves TZIDs through the calendar's own VTIMEZONEs (Windows zone names too).
      const event = vevent.hasProperty("dtstart") ? new ICAL.Event(vevent) : null;
      events.push({
        start: event ? event.startDate.toJSDate().toISOString() : null,
        end: event ? event.endDate.toJSDate().toISOString() : null,
        method,
        prodid,
        uid: String(vevent.getFirstPropertyValue("uid") || ""),
        sequence: Number(vevent.getFirstPropertyValue("sequence") || 0),
        dtstamp: dtstamp ? dtstamp.toJSDate().toISOString() : null,
        attendees: vevent.getAllProperties("attendee").map((p) => ({
          address: address(p.getFirstValue()),
          partstat: p.getParameter("partstat") ? String(p.getParameter("partstat")).toUpperCase() : null,
        })),
      });
    }
  }
  return { events };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => process.stdout.write(JSON.stringify(JSON.parse(input).map(readOne))));
