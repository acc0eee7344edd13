// What a candidate reads when a call fails: the API's error codes in plain words, and what to do next.
// `action` picks the button offered with the message:
//   "retry"  – do the same thing again;
//   "resume" – reload the interview from the server and carry on where it really is;
//   "new"    – this interview cannot be reached any more, start a new one;
//   null     – nothing to press: the candidate fixes their input.

const LOST_INTERVIEW = {
  message:
    "We can't open this interview any more — it may have expired, or this browser no longer has " +
    "the key to it. You can start a new interview.",
  action: "new",
};

const BY_CODE = {
  invalid_body: {
    message:
      "That couldn't be accepted. Check that your answer isn't empty and fits within the size limit, " +
      "then try again.",
    action: null,
  },
  invalid_json: {
    message: "Your browser sent something the server couldn't read. Please try again.",
    action: "retry",
  },
  body_too_large: {
    message: "Your answer is too long to send. Please shorten it and try again.",
    action: null,
  },
  wrong_turn: {
    message:
      "This interview has moved on, perhaps in another tab or window. Let's pick it up where it is now.",
    action: "resume",
  },
  turn_already_answered: {
    message:
      "This question has already been answered, perhaps in another tab or window. Let's show you " +
      "where the interview is now.",
    action: "resume",
  },
  interview_finished: {
    message: "This interview is already finished. Let's show you its report.",
    action: "resume",
  },
  interview_not_finished: {
    message: "The report is written after the last answer. Let's take you back to your next question.",
    action: "resume",
  },
  wrong_token: LOST_INTERVIEW,
  missing_token: LOST_INTERVIEW,
  not_found: LOST_INTERVIEW,
  storage_unavailable: {
    message:
      "The interview service can't reach its storage for the moment. Your answer is still here — " +
      "please try again in a few seconds.",
    action: "retry",
  },
  rate_limited: {
    message: "That was a lot of requests in a short time. Please wait a few seconds, then try again.",
    action: "retry",
  },
  daily_interviews: {
    message:
      "Your network has started as many interviews today as one network may (this keeps the service " +
      "free for everyone). You can start a new one after midnight UTC.",
    action: null,
  },
  daily_custom_roles: {
    message:
      "Your network has started as many interviews for a job title of its own today as one network " +
      "may. Pick a role from the list, or come back after midnight UTC.",
    action: null,
  },
  internal_error: {
    message: "Something went wrong on our side. Nothing you wrote is lost — please try again in a moment.",
    action: "retry",
  },
  network: {
    message: "We couldn't reach the interview service. Check your internet connection, then try again.",
    action: "retry",
  },
};

/** {message, action} for an ApiError (or anything else thrown). */
export function describeError(error) {
  const known = BY_CODE[error?.code];
  if (known) return known;
  if (error?.status >= 500) return BY_CODE.internal_error;
  return {
    message: "Something unexpected happened. Please try again.",
    action: "retry",
  };
}

/** {message, action} for a failure to load the list of roles (the setup form cannot offer them). */
export function describeRolesError(error) {
  return {
    message:
      error?.code === "network"
        ? "We couldn't reach the interview service to load the list of roles. Check your internet " +
          "connection, then try again."
        : "The list of roles couldn't be loaded. Please try again in a moment, or choose “Another role…” " +
          "and type a job title.",
    action: "retry",
  };
}

/**
 * What "Delete my data" did: how many interviews were deleted (on the server and in this browser), and
 * why any others could not be (they stay in this browser, with what it takes to try again).
 */
export function describeDeletion(deletedCount, failures) {
  const interviews = (count) => `${count} interview${count === 1 ? "" : "s"}`;
  const done = deletedCount
    ? `Deleted ${interviews(deletedCount)} from this browser and from the server.`
    : "";
  if (failures.length === 0) return done || "There was nothing to delete.";
  const reason = describeError(failures[0]).message;
  return (
    `${done} ${interviews(failures.length)} could not be deleted on the server, so ` +
    `${failures.length === 1 ? "it is" : "they are"} still kept here: ${reason}`
  ).trim();
}
