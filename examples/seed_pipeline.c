/* The seed pipeline through the C API, every error checked: read an image, blur, Otsu, threshold with the
 * device-resident scalar, erode, label, measure. Build: cc seed_pipeline.c $(pkg-config --cflags --libs twinpix)
 * Run: ./seed_pipeline IMAGE [cpu|cuda|auto] */
#include <twinpix/twinpix.h>

#include <stdio.h>
#include <string.h>

#define TRY(call)                                                                                                  \
    do {                                                                                                           \
        tp_status s_ = (call);                                                                                     \
        if (s_ != TP_OK) {                                                                                         \
            fprintf(stderr, "%s: %s: %s\n", #call, tp_status_str(s_), tp_last_error(ctx));                         \
            goto done;                                                                                             \
        }                                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s IMAGE [cpu|cuda|auto]\n", argv[0]);
        return 2;
    }
    int rc = 1;
    tp_context *ctx = NULL;
    tp_params *p = NULL;
    tp_image img = tp_image_empty(), dev = tp_image_empty();
    tp_result blurred = tp_result_empty(), t = tp_result_empty(), mask = tp_result_empty();
    tp_result eroded = tp_result_empty(), labels = tp_result_empty(), table = tp_result_empty();
    if (tp_context_create(&ctx) != TP_OK)
        return 1;
    tp_backend_choice b = TP_CHOOSE_AUTO;
    if (argc > 2)
        b = !strcmp(argv[2], "cpu") ? TP_CHOOSE_CPU : !strcmp(argv[2], "cuda") ? TP_CHOOSE_CUDA : TP_CHOOSE_AUTO;
    TRY(tp_context_set_backend(ctx, b));
    TRY(tp_read_image(ctx, argv[1], &img, NULL));
    const tp_image *src = &img;
    char why[256];
    if (b != TP_CHOOSE_CPU && tp_backend_available(TP_BACKEND_CUDA, why, sizeof why)) {
        TRY(tp_image_copy(ctx, &img, &dev, TP_DEVICE)); /* upload once: every stage stays on the device */
        src = &dev;
    }
    TRY(tp_params_create(&p));
    TRY(tp_params_set(p, "sigma", "5"));
    TRY(tp_run(ctx, "gaussian", &src, 1, p, &blurred));
    const tp_image *bl = &blurred.image;
    TRY(tp_run(ctx, "threshold_otsu", &bl, 1, NULL, &t));
    tp_params_destroy(p);
    p = NULL;
    TRY(tp_params_create(&p));
    TRY(tp_params_set_image(p, "threshold", &t.image)); /* the threshold never leaves the device */
    TRY(tp_run(ctx, "threshold", &bl, 1, p, &mask));
    tp_params_destroy(p);
    p = NULL;
    TRY(tp_params_create(&p));
    TRY(tp_params_set(p, "footprint", "disk:2"));
    const tp_image *m = &mask.image;
    TRY(tp_run(ctx, "binary_erosion", &m, 1, p, &eroded));
    const tp_image *e = &eroded.image;
    TRY(tp_run(ctx, "label", &e, 1, NULL, &labels));
    tp_params_destroy(p);
    p = NULL;
    TRY(tp_params_create(&p));
    TRY(tp_params_set(p, "properties", "label,area,mean_intensity,solidity"));
    const tp_image *two[2] = {&labels.image, src};
    TRY(tp_run(ctx, "regionprops_table", two, 2, p, &table));
    double thr;
    TRY(tp_result_scalar(ctx, &t, &thr));
    printf("threshold %.6g, %lld regions (backend %s)\n", thr, (long long)table.table.nrows,
           tp_backend_name(table.backend));
    for (int64_t r = 0; r < table.table.nrows && r < 5; r++) {
        for (int c = 0; c < table.table.ncols; c++)
            printf("%s=%g ", table.table.cols[c].name, tp_table_get(&table.table, c, r));
        printf("\n");
    }
    rc = 0;
done:
    tp_result_free(&table);
    tp_result_free(&labels);
    tp_result_free(&eroded);
    tp_result_free(&mask);
    tp_result_free(&t);
    tp_result_free(&blurred);
    tp_image_free(&dev);
    tp_image_free(&img);
    tp_params_destroy(p);
    tp_context_destroy(ctx);
    return rc;
}
