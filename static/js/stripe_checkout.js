// Stripe on the hosted checkout (templates/payments/checkout/_stripe.html). Card details go from Stripe.js straight
// to Stripe; the form posts only the PaymentMethod id. Reads its settings from data-* attributes.
(function () {
  "use strict";
  var box = document.getElementById("stripe-action");
  if (box && !box.dataset.started) {
    box.dataset.started = "1";
    var stripeAction = Stripe(box.dataset.publishableKey, {locale: box.dataset.locale || "auto"});
    var actionErrors = document.getElementById("stripe-action-errors");
    var confirmPayment = function () {
      stripeAction.handleNextAction({clientSecret: box.dataset.clientSecret}).then(function (result) {
        if (result.error) { actionErrors.textContent = result.error.message; actionErrors.hidden = false; return; }
        window.location.reload();  // the page asks the server, which asks Stripe: never trusted from here
      });
    };
    document.getElementById("stripe-action-button").addEventListener("click", confirmPayment);
    confirmPayment();
  }
  var form = document.getElementById("stripe-checkout-form");
  if (form && !form.dataset.started) {
    form.dataset.started = "1";
    var stripe = Stripe(form.dataset.publishableKey, {locale: form.dataset.locale || "auto"});
    var card = stripe.elements().create("card", {hidePostalCode: true});
    var errors = document.getElementById("stripe-errors");
    var button = document.getElementById("stripe-submit");
    card.mount("#stripe-card");
    card.on("change", function (event) {
      errors.hidden = !event.error;
      errors.textContent = event.error ? event.error.message : "";
    });
    form.addEventListener("submit", function (event) {
      if (form.payment_method.value) { return; }  // the PaymentMethod exists: this is the real submit
      event.preventDefault();
      button.disabled = true;  // one PaymentMethod per click; the one-time key stops a second payment anyway
      stripe.createPaymentMethod({type: "card", card: card, billing_details: {email: form.email.value}}).then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message; errors.hidden = false; button.disabled = false; return;
        }
        form.payment_method.value = result.paymentMethod.id;
        form.submit();
      });
    });
  }
})();
