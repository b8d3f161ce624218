;; W1b: as W1, but the handler adds 1 after the resumed computation returns.
;; Checksum W1 + N.
(define inc (make-prompt-tag 'inc))
(define (handle-inc thunk)
  (call-with-prompt inc thunk
    (lambda (k x) (+ 1 (handle-inc (lambda () (k (+ x 1))))))))
(define (sum i acc) (if (= i 0) acc (sum (- i 1) (+ acc (abort-to-prompt inc i)))))
(define n (string->number (cadr (command-line))))
(display (handle-inc (lambda () (sum n 0)))) (newline)
